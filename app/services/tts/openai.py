"""`openai`: OpenAI's speech endpoint (`POST {OPENAI_BASE_URL}/audio/speech`), which every
OpenAI-compatible local TTS server speaks too. OpenAI has no voice-list endpoint: the catalog is static.

Every answer is 24 kHz; other rates and Ogg are converted from its raw PCM. OPENAI_BASE_URL follows the
openai SDK's convention (it includes `/v1`), so the same value works for both. `/audio/speech` sends the
audio as it is generated (chunked; a WAV then announces unknown sizes), which a stream relays.
"""

from __future__ import annotations

from app.errors import BadRequest
from app.services.tts import audio
from app.services.tts.http import AudioAnswer, ProviderHttp
from app.services.tts.http_provider import HttpSpeechProvider
from app.services.tts.provider import Voice, voice
from app.services.tts.provider_errors import json_or_none, provider_error
from app.services.tts.request import SpeechRequest
from app.settings import TTSSettings

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_RATE = 24_000
_NATIVE = {audio.LINEAR16: "pcm", audio.WAV: "wav", audio.MP3: "mp3", audio.FLAC: "flac"}
VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
_WITHOUT_INSTRUCTIONS = ("tts-1", "tts-1-hd")
_VOICE_SETTINGS = {"instructions"}


class OpenAIProvider(HttpSpeechProvider):
    slug = "openai"
    max_text_chars = 4_096
    default_voice = "alloy"
    default_model = "gpt-4o-mini-tts"
    missing_server_auth = "OpenAI API key not configured in server environment (OPENAI_API_KEY)"

    def __init__(self, settings: TTSSettings):
        self.api_key = settings.openai_api_key
        # A compatible server of one's own (OPENAI_BASE_URL) may need no key at all.
        self.custom_server = settings.openai_base_url.rstrip("/") != DEFAULT_BASE_URL
        self.http = ProviderHttp.for_provider("openai", settings.openai_base_url, settings)

    @property
    def configured(self) -> bool:
        return bool(self.api_key) or self.custom_server

    def check(self, request: SpeechRequest) -> None:
        unknown = sorted(set(request.voice_settings) - _VOICE_SETTINGS)
        if unknown:
            raise BadRequest(
                f"voice_settings: {', '.join(unknown)} not supported by openai (expected instructions)",
                code="invalid_voice_settings",
            )
        instructions = request.voice_settings.get("instructions")
        if instructions is not None and not isinstance(instructions, str):
            raise BadRequest("voice_settings.instructions must be a string", code="invalid_voice_settings")
        if instructions and request.model in _WITHOUT_INSTRUCTIONS:
            raise BadRequest(
                f"voice_settings.instructions is not supported by the model {request.model}",
                code="invalid_voice_settings",
            )
        super().check(request)

    def ask(self, request: SpeechRequest, *, streaming: bool) -> tuple[AudioAnswer, int | None]:
        key = request.api_key or self.api_key
        native = _NATIVE.get(request.audio_format) if request.sample_rate == _RATE else None
        body: dict = {
            "model": request.model,
            "input": request.text,
            "voice": request.voice_id,
            "response_format": native or "pcm",
        }
        if request.speaking_rate != 1.0:
            body["speed"] = request.speaking_rate
        if request.voice_settings.get("instructions"):
            body["instructions"] = request.voice_settings["instructions"]
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        answer = self.http.open_audio(
            "POST",
            "/audio/speech",
            json=body,
            headers=headers,
            connect_timeout=request.connect_timeout,
            request_timeout=request.request_timeout,
        )
        if answer.status_code != 200:
            response = answer.response
            raise provider_error("openai", response, _error_detail(response), per_request=bool(request.auth))
        return answer, None if native else _RATE

    def list_voices(self) -> list[Voice]:
        return [voice(name, name.capitalize(), language="Multilingual", sample_rates=[_RATE]) for name in VOICES]

    def close(self) -> None:
        self.http.close()


def _error_detail(response) -> str:
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "")
    return str(error or "")
