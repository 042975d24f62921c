"""`deepgram`: Aura text-to-speech (`POST /v1/speak`) and its catalog (`GET /v1/models`).

Deepgram's docs disagree on the REST default encoding, so every request names encoding, container and
rate explicitly. A parameter that does not apply to an encoding (a rate for mp3 or opus, a container for
mp3 or flac) is a 400 upstream, so those are left out. `/v1/speak` sends the audio as Aura produces it
(chunked), so a stream relays that one answer.
"""

from __future__ import annotations

from app.errors import UpstreamError
from app.services.tts import audio
from app.services.tts.http import AudioAnswer, ProviderHttp
from app.services.tts.http_provider import HttpSpeechProvider
from app.services.tts.provider import Voice, voice
from app.services.tts.provider_errors import json_or_none, provider_error
from app.services.tts.request import SpeechRequest
from app.settings import TTSSettings

_PCM_RATES = (8_000, 16_000, 24_000, 32_000, 48_000)
# (encoding, container, rates it can be sent with; None: fixed rate, never sent)
_NATIVE = {
    audio.LINEAR16: ("linear16", "none", _PCM_RATES),
    audio.WAV: ("linear16", "wav", _PCM_RATES),
    audio.MULAW: ("mulaw", "none", (8_000, 16_000)),
    audio.FLAC: ("flac", None, (8_000, 16_000, 22_050, 32_000, 48_000)),
}
_FIXED_RATE = {audio.MP3: ("mp3", 22_050), audio.OGG: ("opus", 48_000)}


class DeepgramProvider(HttpSpeechProvider):
    slug = "deepgram"
    max_text_chars = 2_000  # Aura's documented limit
    default_voice = "aura-2-thalia-en"
    min_speaking_rate, max_speaking_rate = 0.7, 1.5
    missing_server_auth = "Deepgram API key not configured in server environment (DEEPGRAM_API_KEY)"

    def __init__(self, settings: TTSSettings):
        self.api_key = settings.deepgram_api_key
        self.http = ProviderHttp.for_provider("deepgram", settings.deepgram_base_url, settings)

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    def resolve_voice(self, voice_id: str | None, model: str | None) -> tuple[str, str]:
        # An Aura model *is* the voice; `model` wins when both are given, as upstream.
        chosen = model or voice_id or self.default_voice
        return chosen, chosen

    def ask(self, request: SpeechRequest, *, streaming: bool) -> tuple[AudioAnswer, int | None]:
        key = request.api_key or self.api_key
        if not key:
            raise self.missing_credentials()
        params, native = _query(request)
        if request.speaking_rate != 1.0:
            params["speed"] = f"{request.speaking_rate:g}"
        answer = self.http.open_audio(
            "POST",
            "/v1/speak",
            params=params,
            json={"text": request.text},
            headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
            connect_timeout=request.connect_timeout,
            request_timeout=request.request_timeout,
        )
        if answer.status_code != 200:
            response = answer.response
            raise provider_error("deepgram", response, _error_detail(response), per_request=bool(request.auth))
        return answer, None if native else int(params["sample_rate"])

    def list_voices(self) -> list[Voice]:
        headers = {"Authorization": f"Token {self.api_key}"} if self.api_key else {}
        response = self.http.request("GET", "/v1/models", headers=headers)
        body = json_or_none(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise UpstreamError(
                f"deepgram: voice catalog failed ({response.status_code}): {_error_detail(response)}",
                code="provider_error",
            )
        return [
            _voice(model)
            for model in body.get("tts") or []
            if isinstance(model, dict) and (model.get("canonical_name") or model.get("name"))
        ]

    def close(self) -> None:
        self.http.close()


def _query(request: SpeechRequest) -> tuple[dict[str, str], bool]:
    """Query parameters, and whether Deepgram produces the asked format itself (else we ask for raw PCM
    at the nearest rate and convert)."""
    params = {"model": request.model}
    fmt, rate = request.audio_format, request.sample_rate
    if fmt in _FIXED_RATE and _FIXED_RATE[fmt][1] == rate:
        params["encoding"] = _FIXED_RATE[fmt][0]
        return params, True
    if fmt in _NATIVE and rate in _NATIVE[fmt][2]:
        encoding, container, _ = _NATIVE[fmt]
        params["encoding"] = encoding
        if container:
            params["container"] = container
        params["sample_rate"] = str(rate)
        return params, True
    source = next((r for r in _PCM_RATES if r >= rate), _PCM_RATES[-1])
    params.update(encoding="linear16", container="none", sample_rate=str(source))
    return params, False


def _error_detail(response) -> str:
    body = json_or_none(response)
    if isinstance(body, dict):  # legacy {err_code, err_msg} or modern {category, message}
        return str(body.get("err_msg") or body.get("message") or body.get("err_code") or body.get("error_code") or "")
    if isinstance(body, str):
        return body
    return response.text[:200] if response.headers.get("Content-Type", "").startswith("text/") else ""


def _voice(model: dict) -> Voice:
    metadata = model.get("metadata") or {}
    languages = model.get("languages") or ([model["language"]] if model.get("language") else [])
    tags = [str(tag) for tag in metadata.get("tags") or []]
    return voice(
        model.get("canonical_name") or model["name"],
        str(model.get("name") or model.get("canonical_name")).capitalize(),
        sample=metadata.get("sample") or "",
        accent=metadata.get("accent") or "",
        gender=_gender(tags),
        language=languages[0] if languages else "",
        languages=languages,
        tags=tags,
        sample_rates=list(_PCM_RATES),
    )


def _gender(tags: list[str]) -> str:
    lowered = [tag.lower() for tag in tags]
    if any("feminine" in tag or tag == "female" for tag in lowered):
        return "Female"
    if any("masculine" in tag or tag == "male" for tag in lowered):
        return "Male"
    return ""
