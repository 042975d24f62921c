"""`azure` (alias `microsoft-azure`): Azure AI Speech text to speech over REST
(`POST {region host}/cognitiveservices/v1`, SSML in, audio out) and its catalog (`GET …/voices/list`).

The output format is chosen from the exact format and rate when Azure has it; otherwise Azure's raw PCM
at the next higher rate is converted (upstream rounds instead, and labels 44.1 kHz audio as 32 kHz).
The region becomes part of a host name, so only a plain region name is accepted from a request. The REST
endpoint sends the audio chunked as it is synthesized, which a stream relays.
"""

from __future__ import annotations

import re
import threading
from xml.sax.saxutils import escape

from app.errors import UpstreamError
from app.services.tts import audio
from app.services.tts.http import AudioAnswer, ProviderHttp
from app.services.tts.http_provider import HttpSpeechProvider
from app.services.tts.locales import accent_name, language_name, locale_of_voice
from app.services.tts.provider import Voice, voice
from app.services.tts.provider_errors import json_or_none, provider_error
from app.services.tts.request import SpeechRequest
from app.settings import TTSSettings

_RAW_PCM = {8_000: "8khz", 16_000: "16khz", 22_050: "22050hz", 24_000: "24khz", 44_100: "44100hz", 48_000: "48khz"}
_NATIVE = {
    **{(audio.LINEAR16, rate): f"raw-{name}-16bit-mono-pcm" for rate, name in _RAW_PCM.items()},
    **{(audio.WAV, rate): f"riff-{name}-16bit-mono-pcm" for rate, name in _RAW_PCM.items()},
    (audio.MULAW, 8_000): "raw-8khz-8bit-mono-mulaw",
    (audio.MP3, 16_000): "audio-16khz-64kbitrate-mono-mp3",
    (audio.MP3, 24_000): "audio-24khz-96kbitrate-mono-mp3",
    (audio.MP3, 48_000): "audio-48khz-192kbitrate-mono-mp3",
    (audio.OGG, 16_000): "ogg-16khz-16bit-mono-opus",
    (audio.OGG, 24_000): "ogg-24khz-16bit-mono-opus",
    (audio.OGG, 48_000): "ogg-48khz-16bit-mono-opus",
}
_REGION = re.compile(r"^[a-z0-9]{2,40}$")
_USER_AGENT = "sayna-voice-server"


class AzureProvider(HttpSpeechProvider):
    slug = "azure"
    max_text_chars = 10_000  # Azure caps the SSML document (64 KB) and the audio (10 minutes)
    default_voice = "en-US-JennyNeural"
    min_speaking_rate, max_speaking_rate = 0.5, 2.0  # SSML prosody: half to twice the normal rate
    auth_fields = ("api_key", "region")
    missing_server_auth = (
        "Azure Speech subscription key not configured in server environment (AZURE_SPEECH_SUBSCRIPTION_KEY)"
    )

    def __init__(self, settings: TTSSettings):
        self.api_key = settings.azure_speech_subscription_key
        self.region = settings.azure_speech_region
        self.settings = settings
        self._clients: dict[str, ProviderHttp] = {}
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    def check_auth_field(self, name, value) -> None:
        super().check_auth_field(name, value)
        if name == "region" and not _REGION.match(value.strip().lower()):
            raise self.invalid_auth(
                f"Auth field 'region' must be an Azure region name such as eastus for provider {self.slug}"
            )

    def resolve_voice(self, voice_id: str | None, model: str | None) -> tuple[str, str]:
        return voice_id or model or self.default_voice, ""

    def ask(self, request: SpeechRequest, *, streaming: bool) -> tuple[AudioAnswer, int | None]:
        per_request = bool(request.auth)
        key = request.auth.get("api_key") if per_request else self.api_key
        region = request.auth.get("region", "").strip().lower() if per_request else self.region
        if not key:
            raise self.missing_credentials()
        output_format, source_rate = _output_format(request.audio_format, request.sample_rate)
        answer = self._http(region).open_audio(
            "POST",
            "/cognitiveservices/v1",
            data=_ssml(request).encode("utf-8"),
            headers={
                "Ocp-Apim-Subscription-Key": key,
                "Content-Type": "application/ssml+xml",
                "X-Microsoft-OutputFormat": output_format,
                "User-Agent": _USER_AGENT,
            },
            connect_timeout=request.connect_timeout,
            request_timeout=request.request_timeout,
        )
        if answer.status_code != 200:
            response = answer.response
            raise provider_error("azure", response, _error_detail(response), per_request=per_request)
        return answer, source_rate

    def list_voices(self) -> list[Voice]:
        if not self.api_key:
            raise self.missing_credentials()
        response = self._http(self.region).request(
            "GET",
            "/cognitiveservices/voices/list",
            headers={"Ocp-Apim-Subscription-Key": self.api_key, "User-Agent": _USER_AGENT},
        )
        body = json_or_none(response)
        if response.status_code != 200 or not isinstance(body, list):
            raise UpstreamError(
                f"azure: voice catalog failed ({response.status_code}): {_error_detail(response)}",
                code="provider_error",
            )
        return [_voice(item) for item in body if isinstance(item, dict) and item.get("ShortName")]

    def _http(self, region: str) -> ProviderHttp:
        """One pooled client per region (AZURE_SPEECH_BASE_URL may name `{region}`)."""
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                client = self._clients[region] = ProviderHttp.for_provider(
                    "azure", self.settings.azure_speech_base_url.replace("{region}", region), self.settings
                )
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


def _output_format(fmt: str, rate: int) -> tuple[str, int | None]:
    """Azure's X-Microsoft-OutputFormat, and the PCM rate to convert from when Azure cannot produce
    `fmt` at `rate` itself."""
    if (fmt, rate) in _NATIVE:
        return _NATIVE[(fmt, rate)], None
    source = next((r for r in _RAW_PCM if r >= rate), 48_000)
    return _NATIVE[(audio.LINEAR16, source)], source


def _ssml(request: SpeechRequest) -> str:
    quote = {'"': "&quot;", "'": "&apos;"}
    text = escape(request.text, quote)
    if abs(request.speaking_rate - 1.0) > 0.01:
        text = f"<prosody rate='{(request.speaking_rate - 1.0) * 100:+.0f}%'>{text}</prosody>"
    return (
        f"<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' "
        f"xml:lang='{escape(locale_of_voice(request.voice_id), quote)}'>"
        f"<voice name='{escape(request.voice_id, quote)}'>{text}</voice></speak>"
    )


def _error_detail(response) -> str:
    # Azure's error bodies are usually empty, sometimes text or JSON {"error": {"code", "message"}}.
    body = json_or_none(response)
    if isinstance(body, dict):
        nested = body.get("error")
        error = nested if isinstance(nested, dict) else body
        return str(error.get("message") or error.get("code") or "")
    return response.text.strip()[:200] if response.headers.get("Content-Type", "").startswith("text/") else ""


def _voice(item: dict) -> Voice:
    locale = str(item.get("Locale") or "")
    secondary = [code for code in item.get("SecondaryLocaleList") or [] if isinstance(code, str)]
    rate = str(item.get("SampleRateHertz") or "")
    return voice(
        item["ShortName"],
        item.get("DisplayName") or item.get("LocalName") or item["ShortName"],
        gender=str(item.get("Gender") or ""),
        language=language_name(locale) if locale else "",
        accent=accent_name(locale) if locale else "",
        languages=[locale, *secondary] if locale else secondary,
        sample_rates=[int(rate)] if rate.isdigit() else [],
        tags=[str(style) for style in item.get("StyleList") or []],
    )
