"""The two request forms of POST /speak and the JSON response form."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields, post_load, validate

from app.api.blueprint import RequestSchema, not_blank
from app.services.tts import Pronunciation, SpeechOrder

_FORMAT = "linear16, wav, mp3, ogg (opus), mulaw or flac (aliases: pcm, opus, ulaw)"


# Bounds on the rewrite list; the rewritten text must also fit the provider's own limit (`text_too_long`).
_MAX_PRONUNCIATIONS = 100
_MAX_WORD_CHARS = 100
_MAX_PRONUNCIATION_CHARS = 500
_MAX_TIMEOUT_SECONDS = 3600  # a caller's timeout only shortens the server's deadline; beyond this it is a typo


class PronunciationSchema(RequestSchema):
    word = fields.String(
        required=True, validate=[not_blank, validate.Length(max=_MAX_WORD_CHARS)], metadata={"example": "API"}
    )
    pronunciation = fields.String(
        required=True, validate=validate.Length(max=_MAX_PRONUNCIATION_CHARS), metadata={"example": "A P I"}
    )


def _pronunciations(**metadata) -> fields.List:
    return fields.List(
        fields.Nested(PronunciationSchema),
        load_default=list,
        validate=validate.Length(max=_MAX_PRONUNCIATIONS),
        metadata=metadata,
    )


def _timeout(description: str) -> fields.Float:
    return fields.Float(
        validate=validate.Range(min=0, min_inclusive=False, max=_MAX_TIMEOUT_SECONDS),
        metadata={"description": description},
    )


class TTSConfigSchema(RequestSchema):
    provider = fields.String(
        metadata={
            "description": "local, deepgram, elevenlabs, google, azure (or "
            "microsoft-azure), cartesia or openai (default: "
            "TTS_DEFAULT_PROVIDER)",
            "example": "local",
        }
    )
    model = fields.String(metadata={"description": "Provider model; may be empty", "example": ""})
    voice_id = fields.String(metadata={"description": "A voice id from GET /voices", "example": "gmw/en-US"})
    speaking_rate = fields.Float(
        validate=validate.Range(min=0.25, max=4.0), metadata={"description": "1.0 is normal speed", "example": 1.0}
    )
    audio_format = fields.String(metadata={"description": _FORMAT, "example": "wav"})
    sample_rate = fields.Integer(strict=True, metadata={"description": "8000 to 48000", "example": 24000})
    connection_timeout = _timeout("Seconds to connect to the provider (only shortens the server's own)")
    request_timeout = _timeout("Seconds to wait for the provider's answer (only shortens the server's own)")
    pronunciations = _pronunciations(description="Words rewritten, in order, before synthesis")
    # Checked against the provider's own rules by the speech service (the keys depend on the provider).
    auth = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "This request's provider credentials instead of the server's: `{api_key}` (deepgram, "
            "elevenlabs, cartesia, openai), `{credentials}` (google: a file path, JSON text or a JSON "
            "object), `{api_key, region}` (azure). `{}` or null: the server's own",
            "example": {"api_key": "..."},
        },
    )
    voice_settings = fields.Dict(keys=fields.String(), metadata={"description": "Provider-specific voice settings"})


class _PromptFields(RequestSchema):
    """The fields a prompt can be given by in a URL as well as in the flat body."""

    # blank text is refused by the speech service, with upstream's message
    text = fields.String(required=True, metadata={"example": "Welcome to Sayna"})
    provider = fields.String(metadata={"example": "local"})
    voice_id = fields.String(metadata={"example": "gmw/en-US"})
    model = fields.String()
    audio_format = fields.String(metadata={"description": _FORMAT})
    sample_rate = fields.Integer(strict=True)
    speaking_rate = fields.Float(validate=validate.Range(min=0.25, max=4.0))


PROMPT_FIELDS = ("text", "provider", "voice_id", "model", "audio_format", "sample_rate", "speaking_rate")


class SpeakQuerySchema(_PromptFields):
    """GET /speak: the flat form's prompt fields as query parameters (the token may come as `api_key`)."""

    audio_format = fields.String(metadata={"description": f"{_FORMAT}; default wav (what a browser plays)"})
    sample_rate = fields.Integer(metadata={"description": "8000 to 48000"})  # a query string holds text only

    @post_load
    def to_order(self, query: dict, **_kwargs) -> SpeechOrder:
        return SpeechOrder(
            text=query["text"],
            provider=query.get("provider"),
            voice_id=query.get("voice_id"),
            model=query.get("model"),
            audio_format=query.get("audio_format"),
            sample_rate=query.get("sample_rate"),
            speaking_rate=query.get("speaking_rate"),
        )


class SpeakRequestSchema(_PromptFields):
    """The flat form (REST guide) or the nested `tts_config` form (official SDKs); the nested one wins
    where both give a field."""

    voice_settings = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "Provider-specific overrides: elevenlabs stability, similarity_boost, style, "
            "use_speaker_boost, speed; local pitch (0-100)"
        },
    )
    pronunciations = _pronunciations()
    tts_config = fields.Nested(TTSConfigSchema, metadata={"description": "The SDKs' nested form"})

    @post_load
    def to_order(self, body: dict, **_kwargs) -> SpeakBody:
        """Both forms as one order: a field of `tts_config` wins over the same flat field."""
        config = body.get("tts_config") or {}

        def pick(name):
            value = config.get(name)
            return body.get(name) if value is None else value

        auth = config.get("auth") or {}
        order = SpeechOrder(
            text=body["text"],
            provider=pick("provider"),
            voice_id=pick("voice_id"),
            model=pick("model"),
            audio_format=pick("audio_format"),
            sample_rate=pick("sample_rate"),
            speaking_rate=pick("speaking_rate"),
            voice_settings=pick("voice_settings"),
            pronunciations=tuple(
                Pronunciation(p["word"], p["pronunciation"])
                for p in (config.get("pronunciations") or body.get("pronunciations") or [])
            ),
            auth=auth,
            connect_timeout=config.get("connection_timeout"),
            request_timeout=config.get("request_timeout"),
        )
        return SpeakBody(order, nested=body.get("tts_config") is not None)


@dataclass(frozen=True)
class SpeakBody:
    """A /speak body as loaded: the order it places, and whether it came in the SDKs' nested form (which
    answers audio bytes by default)."""

    order: SpeechOrder
    nested: bool


# The JSON response form, as an OpenAPI schema: the view returns a ready Response (audio or JSON).
SPEAK_JSON_RESPONSE = {
    "type": "object",
    "properties": {
        "metadata": {
            "type": "object",
            "properties": {
                "provider": {"type": "string", "example": "local"},
                "voice_id": {"type": "string", "example": "en-us"},
                "model": {"type": "string", "example": "espeak-ng"},
                "audio_format": {"type": "string", "example": "wav"},
                "sample_rate": {"type": "integer", "example": 24000},
                "duration_ms": {"type": "integer", "example": 1234},
                "bytes": {"type": "integer", "example": 59262},
                "cached": {"type": "boolean", "example": False},
                "cache_key": {"type": "string", "description": "sha256 of the text and every audio-changing field"},
            },
        },
        "audio": {"type": "string", "format": "byte", "description": "The audio, base64"},
    },
}
