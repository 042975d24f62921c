import base64
from dataclasses import replace
from urllib.parse import quote, urlencode

from flask import current_app, jsonify, request

from app.api.blueprint import Blueprint
from app.api.speak.audio_response import CONDITIONS, Delivery, audio_response, delivery_for, speech_headers
from app.api.speak.negotiation import AUDIO, accepted_audio_format, response_form
from app.api.speak.prepared import PreparedAnswer, PreparedRequests
from app.api.speak.schemas import (
    PROMPT_FIELDS,
    SPEAK_JSON_RESPONSE,
    SpeakBody,
    SpeakQuerySchema,
    SpeakRequestSchema,
)
from app.extensions import ErrorSchema, services
from app.services.tts import SpeechOrder, SpeechResult
from app.services.tts.speech import CachedSpeech, PreparedSpeech
from app.services.tts.speech_stream import StreamedSpeech

blp = Blueprint("speak", __name__, description="One-shot text-to-speech")

_400 = (
    "Empty text, unknown provider, unsupported format, rate or speaking rate, text over the provider's limit, "
    "malformed input"
)
_500 = "Provider failure or missing provider credentials; the message names the provider"
_ERRORS = {
    "400": {
        "description": f"{_400}, request credentials (`tts_config.auth`) that do not fit the provider or that it "
        "refused, or a request the provider rejected"
    },
    "500": {"description": _500},
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
# Declared one by one, wav first: Swagger UI sends the chosen type as `Accept` and plays audio/* answers.
_AUDIO_TYPES = ("audio/wav", "audio/mpeg", "audio/ogg", "audio/flac", "audio/basic", "audio/pcm")
_EXAMPLE = {"text": "Welcome to Sayna", "provider": "local", "voice_id": "gmw/en-US"}  # Accept picks the format
_STRING = {"schema": {"type": "string"}}
_SPEECH_HEADERS = {name: _STRING for name in ("x-audio-format", "x-sample-rate", "x-voice-id", "x-provider", "x-cache")}
_VALIDATORS = {
    "ETag": {
        "description": "Strong entity tag: the audio's sha256 (absent, like Content-Length, from a miss streamed as "
        "the provider speaks)",
        **_STRING,
    },
    "Accept-Ranges": {"description": "`bytes`", **_STRING},
}
_SUCCESS_DOC = {
    "200": {
        "description": "The audio: raw bytes for `Accept: audio/*` or `application/octet-stream` (and for the nested "
        "form without a preference), JSON with base64 audio for `Accept: application/json` (and for "
        "the flat form without a preference). Without `audio_format`, a specific audio type in "
        "`Accept` chooses it. `Content-Location` names the GET URL of the same prompt (when the request "
        "has no voice settings, pronunciations or credentials).",
        "content": {
            **{media_type: _BINARY for media_type in _AUDIO_TYPES},
            "application/octet-stream": _BINARY,
            "application/json": {"schema": SPEAK_JSON_RESPONSE},
        },
        "headers": {**_SPEECH_HEADERS, **_VALIDATORS, "Content-Location": _STRING},
    }
}
_GET_AUDIO = {media_type: _BINARY for media_type in _AUDIO_TYPES}
_GET_HEADERS = {
    **_SPEECH_HEADERS,
    **_VALIDATORS,
    "Last-Modified": {"description": "When a cached recording was stored", **_STRING},
    "Cache-Control": {
        "description": "`public, max-age=<CACHE_TTL_SECONDS>, immutable` with auth off, `private` with auth on",
        **_STRING,
    },
}
_GET_DOC = {
    "200": {
        "description": "The audio itself (wav unless `audio_format` says otherwise)",
        "content": _GET_AUDIO,
        "headers": _GET_HEADERS,
    },
    "206": {
        "description": "One byte range of the audio (`Range: bytes=a-b`), with `Content-Range`",
        "content": _GET_AUDIO,
        "headers": {**_GET_HEADERS, "Content-Range": _STRING},
    },
    "304": {"description": "The caller's copy is current (`If-None-Match`)"},
}


# One instance for every request: building a schema (and its nested ones) per request cost more than
# the rest of a cache hit (measured with bench/speak.py).
_REQUEST_SCHEMA = SpeakRequestSchema()
_QUERY_SCHEMA = SpeakQuerySchema()
# A GET URL is one prompt, one recording: its format is not chosen by Accept, and a browser plays wav.
_GET_FORMAT = "wav"


def _delivery(method: str) -> Delivery:
    """Per app, per method: built once (settings never change while the process runs)."""
    deliveries = current_app.extensions.setdefault("speak_delivery", {})
    if method not in deliveries:
        deliveries[method] = delivery_for(services().settings, method)
    return deliveries[method]


def _respond(answer: PreparedAnswer):
    method = "POST" if request.method == "POST" else "GET"
    if method == "GET" or response_form(request.headers.get("Accept"), answer.nested) == AUDIO:
        speech = services().speech
        delivered: CachedSpeech | SpeechResult | StreamedSpeech
        if request.method == "HEAD" or CONDITIONS.intersection(request.environ):
            delivered = speech.deliver_file(answer.speech)  # a miss is answered whole: its length and ETag decide
        else:
            delivered = speech.deliver_stream(answer.speech)
        return audio_response(request, delivered, _delivery(method), answer.location)
    result = services().speech.deliver(answer.speech)
    response = jsonify({"metadata": _metadata(result), "audio": base64.b64encode(result.audio.data).decode()})
    response.headers.update(speech_headers(result.request, result.cached))
    if answer.location:
        response.headers["Content-Location"] = answer.location
    return response


@blp.route("/speak", methods=["POST"])
@PreparedRequests.reuse(_respond)
@blp.arguments(_REQUEST_SCHEMA, example=_EXAMPLE)
@blp.doc(responses={**_SUCCESS_DOC, **_ERRORS})
def speak(body: SpeakBody):
    """Synthesize text; identical requests are served from the synthesis cache."""
    order = body.order
    if order.audio_format is None:  # a specific audio type in Accept chooses the format
        order = replace(order, audio_format=accepted_audio_format(request.headers.get("Accept")))
    prepared = services().speech.prepare(order)
    answer = PreparedAnswer(prepared, body.nested, _get_url(order, prepared))
    PreparedRequests.of_app().remember(answer)
    return _respond(answer)


@blp.route("/speak", methods=["GET", "HEAD"], endpoint="speak_url")
@PreparedRequests.reuse(_respond)
@blp.arguments(_QUERY_SCHEMA, location="query")
@blp.alt_response(400, schema=ErrorSchema, description=_400)
@blp.alt_response(416, schema=ErrorSchema, description="The range lies outside the audio (`range_not_satisfiable`)")
@blp.alt_response(500, schema=ErrorSchema, description=_500)
@blp.doc(responses=_GET_DOC)
def speak_url(order: SpeechOrder):
    """Speak the text given in the URL and answer the audio itself, so that an audio element can play it.

    The same fields and checks as the flat form of POST /speak. One URL is one recording: the format is
    `audio_format` (default wav), whatever `Accept` says, and the answer is cacheable (`ETag`, `Range`,
    `Cache-Control`). With AUTH_REQUIRED the token comes as a header or as `?api_key=`."""
    if order.audio_format is None:
        order = replace(order, audio_format=_GET_FORMAT)
    prepared = services().speech.prepare(order)
    answer = PreparedAnswer(prepared, nested=False, location=None)
    PreparedRequests.of_app().remember(answer)
    return _respond(answer)


def _get_url(order: SpeechOrder, prepared: PreparedSpeech) -> str | None:
    """The GET URL of the same recording: the prompt's given fields in one order with their resolved
    values (never a credential), or None when the request has what a URL cannot carry."""
    if order.voice_settings or order.pronunciations or order.auth:
        return None
    resolved = prepared.request
    values = {
        "text": order.text,
        "provider": resolved.provider,
        "voice_id": resolved.voice_id,
        "model": resolved.model,
        "audio_format": resolved.audio_format,
        "sample_rate": resolved.sample_rate,
        "speaking_rate": resolved.speaking_rate,
    }
    given = {name: values[name] for name in PROMPT_FIELDS if getattr(order, name) is not None}
    if resolved.audio_format == _GET_FORMAT:  # one URL per recording: the default is left out
        given.pop("audio_format", None)
    else:
        given["audio_format"] = resolved.audio_format
    return f"{request.script_root}/speak?{urlencode(given, quote_via=quote)}"


def _metadata(result: SpeechResult) -> dict:
    return {
        "provider": result.request.provider,
        "voice_id": result.request.voice_id,
        "model": result.request.model,
        "audio_format": result.audio.audio_format,
        "sample_rate": result.audio.sample_rate,
        "duration_ms": result.audio.duration_ms,
        "bytes": len(result.audio.data),
        "cached": result.cached,
        "cache_key": result.cache_key,
    }
