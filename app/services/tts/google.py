"""`google`: Cloud Text-to-Speech v1 REST (`POST /v1/text:synthesize`) and its catalog (`GET /v1/voices`).

Credentials are a service-account or authorized-user JSON (a file path, JSON text, or, from a request, a
JSON object). google-auth turns them into an OAuth2 access token, keeps it and refreshes it before it
expires. The server's credentials get their token at their own `token_uri`; a request's credentials at
GOOGLE_TOKEN_URI (Google's endpoint by default), never at a URL the caller chose: otherwise any caller
could make the server post to, and echo, an address of their choosing (google-auth ignores the
token_uri of authorized-user credentials for the same reason). Ambient cloud credentials (ADC) are never
used: without GOOGLE_APPLICATION_CREDENTIALS or a request's credentials, google is not configured.

LINEAR16, MULAW and ALAW answers carry a WAV header (Google's docs): it is kept for `wav` and stripped
for the raw formats, as upstream strips it.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
import requests
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account

from app.errors import UpstreamError
from app.redaction import redact
from app.services.tts import audio
from app.services.tts.audio import Audio
from app.services.tts.http import ProviderHttp
from app.services.tts.locales import accent_name, language_name, locale_of_voice
from app.services.tts.provider import SpeechProvider, Voice, voice
from app.services.tts.provider_errors import credentials_refused, invalid_credentials, json_or_none, provider_error
from app.services.tts.request import SpeechRequest
from app.settings import TTSSettings

_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# our format -> (audioEncoding, whether the answer is a WAV whose payload we keep raw)
_ENCODINGS = {
    audio.LINEAR16: ("LINEAR16", True),
    audio.WAV: ("LINEAR16", False),
    audio.MULAW: ("MULAW", True),
    audio.MP3: ("MP3", False),
    audio.OGG: ("OGG_OPUS", False),
}
_MAX_REQUEST_CREDENTIALS = 64  # distinct per-request credentials whose tokens are kept
_GENDERS = {"MALE": "Male", "FEMALE": "Female", "NEUTRAL": "Neutral"}


class _Unusable(Exception):
    """Credentials that cannot be used; the message names why, never their content."""


class GoogleProvider(SpeechProvider):
    slug = "google"
    max_text_chars = 5_000  # Google's limit is 5000 bytes of input
    default_voice = "en-US-Neural2-F"
    auth_fields = ("credentials",)
    missing_server_auth = "Google credentials not configured in server environment (GOOGLE_APPLICATION_CREDENTIALS)"

    def __init__(self, settings: TTSSettings):
        self.server_credentials = settings.google_credentials_json or settings.google_credentials_path
        self.http = ProviderHttp.for_provider("google", settings.google_base_url, settings)
        self._tokens = _TokenSource(
            self.http.session,
            (settings.connect_timeout_seconds, settings.request_timeout_seconds),
            request_token_uri=settings.google_token_uri,
        )

    @property
    def configured(self) -> bool:
        return bool(self.server_credentials)

    def check_auth_field(self, name: str, value: Any) -> None:
        if isinstance(value, dict):
            return
        if value is not None and not isinstance(value, str):
            raise self.invalid_auth(
                f"Auth field 'credentials' must be a string or JSON object for provider {self.slug}"
            )
        super().check_auth_field(name, value)

    def resolve_voice(self, voice_id: str | None, model: str | None) -> tuple[str, str]:
        # A Google voice name carries everything; upstream takes `model` as the voice when no voice is given.
        return voice_id or model or self.default_voice, ""

    def synthesize(self, request: SpeechRequest) -> Audio:
        per_request = bool(request.auth)
        headers = self._auth_headers(
            request.auth.get("credentials") if per_request else self.server_credentials, per_request
        )
        encoding, strip_header = _ENCODINGS.get(request.audio_format, ("LINEAR16", True))
        body = {
            "input": {"text": request.text},
            "voice": {"languageCode": locale_of_voice(request.voice_id), "name": request.voice_id},
            "audioConfig": {
                "audioEncoding": encoding,
                "speakingRate": request.speaking_rate,
                "sampleRateHertz": request.sample_rate,
            },
        }
        response = self.http.request(
            "POST",
            "/v1/text:synthesize",
            json=body,
            headers=headers,
            connect_timeout=request.connect_timeout,
            request_timeout=request.request_timeout,
        )
        if response.status_code != 200:
            raise provider_error("google", response, _error_detail(response), per_request=per_request)
        data = _audio_content(response)
        if request.audio_format not in _ENCODINGS:  # flac: Google has none, convert its PCM
            return audio.from_pcm(_wav_payload(data), request.sample_rate, request.audio_format, request.sample_rate)
        if strip_header:
            data = _wav_payload(data)
        return audio.measured(data, request.audio_format, request.sample_rate)

    def list_voices(self) -> list[Voice]:
        if not self.server_credentials:
            raise self.missing_credentials()
        response = self.http.request("GET", "/v1/voices", headers=self._auth_headers(self.server_credentials, False))
        body = json_or_none(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise UpstreamError(
                f"google: voice catalog failed ({response.status_code}): {_error_detail(response)}",
                code="provider_error",
            )
        return [_voice(item) for item in body.get("voices") or [] if isinstance(item, dict) and item.get("name")]

    def _auth_headers(self, source: str | dict | None, per_request: bool) -> dict[str, str]:
        if not source:
            raise self.missing_credentials()
        try:
            return self._tokens.headers(source, per_request)
        except _Unusable as exc:
            raise invalid_credentials(str(exc), per_request=per_request) from None
        except google.auth.exceptions.RefreshError as exc:
            raise credentials_refused(
                "google", f"(OAuth2 grant): {_refresh_detail(exc, source)}", per_request=per_request
            ) from None
        except google.auth.exceptions.TransportError:
            raise UpstreamError("google: its OAuth2 endpoint cannot be reached", code="provider_unreachable") from None

    def close(self) -> None:
        self.http.close()


class _TokenSource:
    """google-auth credentials per source (the server's file, its inline JSON, or a request's value),
    each keeping its access token until shortly before it expires."""

    def __init__(self, session: requests.Session, timeout: tuple[float, float], *, request_token_uri: str):
        self._transport = _TimedRequest(session, timeout)
        self._request_token_uri = request_token_uri
        self._by_value: OrderedDict[str, _Credentials] = OrderedDict()
        self._lock = threading.Lock()

    def headers(self, source: str | dict, per_request: bool) -> dict[str, str]:
        credentials = self._credentials(source, per_request)
        headers: dict[str, str] = {"Content-Type": "application/json"}
        with credentials.lock:  # one refresh at a time per credentials; others reuse its token
            credentials.value.before_request(self._transport, "POST", "", headers)
        return headers

    def _credentials(self, source: str | dict, per_request: bool) -> _Credentials:
        key: tuple
        if isinstance(source, str) and not source.lstrip().startswith("{"):
            key = ("file", per_request, source, _file_signature(source))  # a rewritten file is read again
        else:
            key = ("value", per_request, json.dumps(source, sort_keys=True) if isinstance(source, dict) else source)
        with self._lock:  # loading is quick (no network): under the lock, so each source has one token
            cached = self._by_value.get(str(key))
            if cached is not None:
                self._by_value.move_to_end(str(key))
                return cached
            loaded = self._by_value[str(key)] = _Credentials(
                _load(source, self._request_token_uri if per_request else None)
            )
            while len(self._by_value) > _MAX_REQUEST_CREDENTIALS:
                self._by_value.popitem(last=False)
            return loaded


class _Credentials:
    def __init__(self, value):
        self.value = value
        self.lock = threading.Lock()


class _TimedRequest(google.auth.transport.requests.Request):
    """google-auth's transport with our provider timeouts instead of its 120 s default."""

    def __init__(self, session: requests.Session, timeout: tuple[float, float]):
        super().__init__(session)
        self._timeout = timeout

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        return super().__call__(url, method=method, body=body, headers=headers, timeout=self._timeout, **kwargs)


def _file_signature(path: str) -> tuple[int, int] | None:
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _load(source: str | dict, token_uri: str | None):
    """google-auth credentials; `token_uri` replaces the one the credentials name (request credentials)."""
    info = _info(source)
    kind = info.get("type")
    try:
        if kind == "service_account":
            account = service_account.Credentials.from_service_account_info(info, scopes=[_SCOPE])
            return account.with_token_uri(token_uri) if token_uri else account
        if kind == "authorized_user":
            # Google bills calls made with a user's credentials to a quota project: it must be named.
            project = info.get("quota_project_id") or info.get("project_id")
            if not project:
                raise _Unusable(
                    "Failed to extract project_id from Google credentials: authorized_user "
                    "credentials need a quota_project_id or project_id"
                )
            user = user_credentials.Credentials.from_authorized_user_info(info, scopes=[_SCOPE])
            if token_uri or info.get("token_uri"):
                user = user.with_token_uri(token_uri or info["token_uri"])
            return user.with_quota_project(project)
    except ValueError as exc:
        detail = str(exc) if "missing fields" in str(exc) else "the private key or fields cannot be read"
        raise _Unusable(f"Invalid Google credentials: {detail}") from None
    raise _Unusable(
        f"Invalid Google credentials: type '{kind}' is not supported (expected service_account or authorized_user)"
    )


def _info(source: str | dict) -> dict:
    if isinstance(source, dict):
        return source
    text = source.strip()
    if text.startswith("{"):
        try:
            info = json.loads(text)
        except ValueError:
            raise _Unusable("Invalid Google credentials: the JSON text cannot be parsed") from None
    else:
        if ".." in Path(text).parts:
            raise _Unusable("Invalid Google credentials: a credential path must not contain '..'")
        path = Path(text)
        if not path.is_file():
            raise _Unusable(f"Credential file not found: {text}")
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise _Unusable(f"Failed to parse credentials file '{text}': not a JSON credentials file") from None
    if not isinstance(info, dict):
        raise _Unusable("Invalid Google credentials: expected a JSON object")
    return info


def _refresh_detail(exc: google.auth.exceptions.RefreshError, source: str | dict) -> str:
    """google-auth's message ("<error>: <error_description>" from the token endpoint, or its own words),
    without any value of the credentials, should the endpoint echo one."""
    detail = str(exc.args[0] if exc.args else "refused")[:200]
    try:
        info = source if isinstance(source, dict) else json.loads(source) if source.lstrip().startswith("{") else {}
    except ValueError:
        info = {}
    secrets = [value for key, value in info.items() if key != "type" and isinstance(value, str) and len(value) >= 8]
    return redact(detail, sorted(secrets, key=len, reverse=True))


def _audio_content(response: requests.Response) -> bytes:
    body = json_or_none(response)
    content = body.get("audioContent") if isinstance(body, dict) else None
    try:
        data = base64.b64decode(content or "", validate=True)
    except (binascii.Error, TypeError):
        data = b""
    if not data:
        raise UpstreamError("google returned no audio", code="provider_error")
    return data


def _wav_payload(data: bytes) -> bytes:
    """The samples of a RIFF/WAVE file (its `data` chunk); anything else is returned as it is."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = data[offset : offset + 4], struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        if chunk == b"data":
            return data[offset + 8 : offset + 8 + size]
        offset += 8 + size + (size & 1)
    raise UpstreamError("google returned a WAV file without audio data", code="provider_error")


def _error_detail(response: requests.Response) -> str:
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        status, message = error.get("status") or "", error.get("message") or ""
        return f"{status}: {message}" if status and message else str(status or message)
    return ""


def _voice(item: dict) -> Voice:
    name = item["name"]
    codes = [code for code in item.get("languageCodes") or [] if isinstance(code, str)]
    first = codes[0] if codes else locale_of_voice(name)
    rate = item.get("naturalSampleRateHertz")
    return voice(
        name,
        " ".join(name.split("-")[2:]) or name,
        accent=accent_name(first),
        gender=_GENDERS.get(str(item.get("ssmlGender")), ""),
        language=language_name(first),
        languages=codes,
        sample_rates=[rate] if rate else [],
    )
