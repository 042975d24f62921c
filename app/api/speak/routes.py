import base64
from dataclasses import replace

from flask import Response, jsonify, request

from app.api.blueprint import Blueprint
from app.api.speak.negotiation import AUDIO, accepted_audio_format, response_form
from app.api.speak.prepared import PreparedRequests
from app.api.speak.schemas import SPEAK_JSON_RESPONSE, SpeakBody, SpeakRequestSchema
from app.extensions import services
from app.services.tts import SpeechResult
from app.services.tts.speech import PreparedSpeech

blp = Blueprint("speak", __name__, description="One-shot text-to-speech")

_ERRORS = {
    "400": {
        "description": "Empty text, unknown provider, unsupported format, rate or speaking rate, text over "
        "the provider's limit, malformed JSON, request credentials (`tts_config.auth`) that do "
        "not fit the provider or that it refused, or a request the provider rejected"
    },
    "500": {"description": "Provider failure or missing provider credentials; the message names the provider"},
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
# Declared one by one, wav first: Swagger UI sends the chosen type as `Accept` and plays audio/* answers.
_AUDIO_TYPES = ("audio/wav", "audio/mpeg", "audio/ogg", "audio/flac", "audio/basic", "audio/pcm")
_EXAMPLE = {"text": "Welcome to Sayna", "provider": "local", "voice_id": "gmw/en-US"}  # Accept picks the format
_SUCCESS_DOC = {
    "200": {
        "description": "The audio: raw bytes for `Accept: audio/*` or `application/octet-stream` (and for the nested "
        "form without a preference), JSON with base64 audio for `Accept: application/json` (and for "
        "the flat form without a preference). Without `audio_format`, a specific audio type in "
        "`Accept` chooses it.",
        "content": {
            **{media_type: _BINARY for media_type in _AUDIO_TYPES},
            "application/octet-stream": _BINARY,
            "application/json": {"schema": SPEAK_JSON_RESPONSE},
        },
        "headers": {
            name: {"schema": {"type": "string"}}
            for name in ("x-audio-format", "x-sample-rate", "x-voice-id", "x-provider", "x-cache")
        },
    }
}


# One instance for every request: building a schema (and its nested ones) per request cost more than
# the rest of a cache hit (measured with bench/speak.py).
_REQUEST_SCHEMA = SpeakRequestSchema()


def _respond(prepared: PreparedSpeech, nested: bool):
    result = services().speech.deliver(prepared)
    headers = _headers(result)
    if response_form(request.headers.get("Accept"), nested) == AUDIO:
        return Response(result.audio.data, mimetype=result.audio.content_type, headers=headers)
    response = jsonify({"metadata": _metadata(result), "audio": base64.b64encode(result.audio.data).decode()})
    response.headers.update(headers)
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
    PreparedRequests.of_app().remember(prepared, body.nested)
    return _respond(prepared, body.nested)


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


def _headers(result: SpeechResult) -> dict[str, str]:
    # Spelled exactly so: the Python SDK hands users a case-sensitive dict of these headers.
    return {
        "x-audio-format": result.audio.audio_format,
        "x-sample-rate": str(result.audio.sample_rate),
        "x-voice-id": result.request.voice_id,
        "x-provider": result.request.provider,
        "x-cache": "HIT" if result.cached else "MISS",
    }
