"""`cartesia`: Sonic text to speech (`POST /tts/bytes`) and its catalog (`GET /voices`, every page).

Requests carry the API version upstream pins (`Cartesia-Version: 2025-04-16`), whose body takes the
voice as `{"mode": "id", "id": …}`. The requested rate is sent when Cartesia supports it; other formats
and rates are converted from its raw PCM. `/tts/bytes` sends the audio as Sonic generates it, in one
response body, which a stream relays.
"""

from __future__ import annotations

from app.errors import BadRequest, UpstreamError
from app.services.tts import audio
from app.services.tts.http import AudioAnswer, ProviderHttp
from app.services.tts.http_provider import HttpSpeechProvider
from app.services.tts.locales import language_name
from app.services.tts.provider import Voice, voice
from app.services.tts.provider_errors import json_or_none, provider_error
from app.services.tts.request import SpeechRequest
from app.settings import TTSSettings

API_VERSION = "2025-04-16"
_RATES = (8_000, 16_000, 22_050, 24_000, 44_100, 48_000)
_RAW_ENCODINGS = {audio.LINEAR16: "pcm_s16le", audio.MULAW: "pcm_mulaw"}
_MAX_VOICE_PAGES = 50  # 100 voices a page
_GENDERS = {
    "masculine": "Male",
    "male": "Male",
    "feminine": "Female",
    "female": "Female",
    "gender_neutral": "Neutral",
    "neutral": "Neutral",
}
_VOICE_SETTINGS = {"language"}


class CartesiaProvider(HttpSpeechProvider):
    slug = "cartesia"
    max_text_chars = 10_000
    default_voice = "694f9389-aac1-45b6-b726-9d9369183238"  # a public English voice every account has
    default_model = "sonic-3"
    min_speaking_rate, max_speaking_rate = 0.6, 1.5  # sonic-3's generation_config.speed
    missing_server_auth = "Cartesia API key not configured in server environment (CARTESIA_API_KEY)"

    def __init__(self, settings: TTSSettings):
        self.api_key = settings.cartesia_api_key
        self.http = ProviderHttp.for_provider("cartesia", settings.cartesia_base_url, settings)

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    def check(self, request: SpeechRequest) -> None:
        unknown = sorted(set(request.voice_settings) - _VOICE_SETTINGS)
        if unknown:
            raise BadRequest(
                f"voice_settings: {', '.join(unknown)} not supported by cartesia (expected language)",
                code="invalid_voice_settings",
            )
        super().check(request)

    def ask(self, request: SpeechRequest, *, streaming: bool) -> tuple[AudioAnswer, int | None]:
        key = request.api_key or self.api_key
        if not key:
            raise self.missing_credentials()
        output_format, source_rate = _output_format(request.audio_format, request.sample_rate)
        body: dict = {
            "model_id": request.model,
            "transcript": request.text,
            "voice": {"mode": "id", "id": request.voice_id},
            "output_format": output_format,
            "language": str(request.voice_settings.get("language") or "en"),
        }
        if request.speaking_rate != 1.0:
            body["generation_config"] = {"speed": request.speaking_rate}
        answer = self.http.open_audio(
            "POST",
            "/tts/bytes",
            json=body,
            headers=self._headers(key),
            connect_timeout=request.connect_timeout,
            request_timeout=request.request_timeout,
        )
        if answer.status_code != 200:
            response = answer.response
            raise provider_error("cartesia", response, _error_detail(response), per_request=bool(request.auth))
        return answer, source_rate

    def list_voices(self) -> list[Voice]:
        if not self.api_key:
            raise self.missing_credentials()
        voices: list[Voice] = []
        params: dict[str, str] = {"limit": "100"}
        for _ in range(_MAX_VOICE_PAGES):
            response = self.http.request("GET", "/voices", params=params, headers=self._headers(self.api_key))
            body = json_or_none(response)
            if response.status_code != 200 or not isinstance(body, dict):
                raise UpstreamError(
                    f"cartesia: voice catalog failed ({response.status_code}): {_error_detail(response)}",
                    code="provider_error",
                )
            page = [item for item in body.get("data") or [] if isinstance(item, dict) and item.get("id")]
            voices += [_voice(item) for item in page]
            if not body.get("has_more") or not page:
                break
            params["starting_after"] = str(body.get("next_page") or page[-1]["id"])
        return voices

    @staticmethod
    def _headers(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}", "Cartesia-Version": API_VERSION, "Content-Type": "application/json"}

    def close(self) -> None:
        self.http.close()


def _output_format(fmt: str, rate: int) -> tuple[dict, int | None]:
    """Cartesia's output_format, and the PCM rate to convert from when it cannot produce `fmt` itself."""
    if rate in _RATES:
        if fmt in _RAW_ENCODINGS:
            return {"container": "raw", "encoding": _RAW_ENCODINGS[fmt], "sample_rate": rate}, None
        if fmt == audio.WAV:
            return {"container": "wav", "encoding": "pcm_s16le", "sample_rate": rate}, None
        if fmt == audio.MP3:
            return {"container": "mp3", "sample_rate": rate, "bit_rate": 128_000}, None
    source = next((r for r in _RATES if r >= rate), _RATES[-1])
    return {"container": "raw", "encoding": "pcm_s16le", "sample_rate": source}, source


def _error_detail(response) -> str:
    # {"error_code", "title", "message", "request_id"} on recent versions; plain text on older ones
    body = json_or_none(response)
    if isinstance(body, dict):
        return str(body.get("message") or body.get("title") or body.get("error") or body.get("error_code") or "")
    return response.text.strip()[:200]


def _voice(item: dict) -> Voice:
    language = str(item.get("language") or "")
    return voice(
        item["id"],
        item.get("name") or item["id"],
        sample=item.get("preview_file_url") or "",
        accent=str(item.get("accent") or ""),
        gender=_GENDERS.get(str(item.get("gender") or "").lower(), ""),
        language=language_name(language) if language else "",
        languages=[language] if language else [],
        sample_rates=list(_RATES),
        tags=[item["description"]] if item.get("description") else [],
    )
