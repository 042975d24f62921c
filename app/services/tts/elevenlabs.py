"""`elevenlabs`: `POST /v1/text-to-speech/{voice_id}` and its catalog (`GET /v1/voices`).

`output_format` goes in the query string (the body's is ignored upstream) and is always sent. A stream
asks `…/{voice_id}/stream`, the same request answered as the audio is generated.
"""

from __future__ import annotations

from urllib.parse import quote

from app.errors import BadRequest, UpstreamError
from app.services.tts import audio
from app.services.tts.http import AudioAnswer, ProviderHttp
from app.services.tts.http_provider import HttpSpeechProvider
from app.services.tts.provider import Voice, voice
from app.services.tts.provider_errors import json_or_none, provider_error
from app.services.tts.request import SpeechRequest
from app.settings import TTSSettings

_PCM_RATES = (8_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000)
_CONVERSION_RATES = (8_000, 16_000, 22_050, 24_000)  # higher pcm rates need a Pro plan: upsample instead
_NATIVE = {
    (audio.MULAW, 8_000): "ulaw_8000",
    (audio.MP3, 22_050): "mp3_22050_32",
    (audio.MP3, 24_000): "mp3_24000_48",
    (audio.MP3, 44_100): "mp3_44100_128",
    (audio.OGG, 48_000): "opus_48000_64",
}
_VOICE_SETTINGS = {"stability", "similarity_boost", "style", "use_speaker_boost", "speed"}
_TEXT_LIMITS = {
    "eleven_v3": 5_000,
    "eleven_flash_v2_5": 40_000,
    "eleven_turbo_v2_5": 40_000,
    "eleven_flash_v2": 30_000,
    "eleven_turbo_v2": 30_000,
    "eleven_multilingual_v2": 10_000,
}


class ElevenLabsProvider(HttpSpeechProvider):
    slug = "elevenlabs"
    max_text_chars = 10_000
    default_voice = "21m00Tcm4TlvDq8ikWAM"  # Rachel, a premade voice every account has
    default_model = "eleven_multilingual_v2"
    min_speaking_rate, max_speaking_rate = 0.7, 1.2
    missing_server_auth = "ElevenLabs API key not configured in server environment (ELEVENLABS_API_KEY)"

    def __init__(self, settings: TTSSettings):
        self.api_key = settings.elevenlabs_api_key
        self.http = ProviderHttp.for_provider("elevenlabs", settings.elevenlabs_base_url, settings)

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    def text_limit(self, model: str) -> int:
        return _TEXT_LIMITS.get(model, self.max_text_chars)

    def check(self, request: SpeechRequest) -> None:
        unknown = sorted(set(request.voice_settings) - _VOICE_SETTINGS)
        if unknown:
            raise BadRequest(
                f"voice_settings: {', '.join(unknown)} not supported by elevenlabs (expected "
                f"{', '.join(sorted(_VOICE_SETTINGS))})",
                code="invalid_voice_settings",
            )
        super().check(request)

    def ask(self, request: SpeechRequest, *, streaming: bool) -> tuple[AudioAnswer, int | None]:
        key = request.api_key or self.api_key
        if not key:
            raise self.missing_credentials()
        output_format, source_rate = _output_format(request.audio_format, request.sample_rate)
        body: dict = {"text": request.text, "model_id": request.model}
        settings = dict(request.voice_settings)
        if request.speaking_rate != 1.0:
            settings.setdefault("speed", request.speaking_rate)
        if settings:
            body["voice_settings"] = settings
        answer = self.http.open_audio(
            "POST",
            f"/v1/text-to-speech/{quote(request.voice_id, safe='')}{'/stream' if streaming else ''}",
            params={"output_format": output_format},
            json=body,
            headers={"xi-api-key": key, "Content-Type": "application/json"},
            connect_timeout=request.connect_timeout,
            request_timeout=request.request_timeout,
        )
        if answer.status_code != 200:
            response = answer.response
            raise provider_error("elevenlabs", response, _error_detail(response), per_request=bool(request.auth))
        return answer, source_rate

    def list_voices(self) -> list[Voice]:
        if not self.api_key:
            raise self.missing_credentials()
        response = self.http.request("GET", "/v1/voices", headers={"xi-api-key": self.api_key})
        body = json_or_none(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise UpstreamError(
                f"elevenlabs: voice catalog failed ({response.status_code}): {_error_detail(response)}",
                code="provider_error",
            )
        return [_voice(item) for item in body.get("voices") or [] if isinstance(item, dict) and item.get("voice_id")]

    def close(self) -> None:
        self.http.close()


def _output_format(fmt: str, rate: int) -> tuple[str, int | None]:
    """ElevenLabs' output_format, and the PCM rate to convert from when it cannot produce `fmt` itself."""
    if (fmt, rate) in _NATIVE:
        return _NATIVE[(fmt, rate)], None
    if fmt in (audio.LINEAR16, audio.WAV) and rate in _PCM_RATES:
        return f"{'pcm' if fmt == audio.LINEAR16 else 'wav'}_{rate}", None
    source = next((r for r in _CONVERSION_RATES if r >= rate), _CONVERSION_RATES[-1])
    return f"pcm_{source}", source


def _error_detail(response) -> str:
    """`detail` is a string, an object ({code|status, message}) or a FastAPI validation list."""
    body = json_or_none(response)
    detail = body.get("detail") if isinstance(body, dict) else body
    if isinstance(detail, dict):
        code = detail.get("code") or detail.get("status") or ""
        message = detail.get("message") or ""
        return f"{code}: {message}" if code and message else str(code or message)
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        item = detail[0]
        return f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg', '')}"
    return str(detail or "")


def _voice(item: dict) -> Voice:
    labels = {str(k).replace(" ", "_"): v for k, v in (item.get("labels") or {}).items() if isinstance(v, str)}
    verified = [v for v in item.get("verified_languages") or [] if isinstance(v, dict) and v.get("language")]
    languages = list(dict.fromkeys(v["language"] for v in verified))
    fallback_language = (item.get("fine_tuning") or {}).get("language") or ""
    tags = [value for key in ("description", "age", "use_case") if (value := labels.get(key))]
    if item.get("category"):
        tags.append(item["category"])
    return voice(
        item["voice_id"],
        item.get("name") or item["voice_id"],
        sample=item.get("preview_url") or "",
        accent=labels.get("accent") or (verified[0].get("accent") if verified else "") or "",
        gender=(labels.get("gender") or "").capitalize(),
        language=languages[0] if languages else fallback_language,
        languages=languages,
        tags=tags,
        sample_rates=list(_PCM_RATES),
    )
