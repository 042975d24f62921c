"""A pooled HTTP session for one provider: one deadline per call, bounded retries on 429/5xx, and audio
answers checked before anyone sees them.

The deadline (TTS_REQUEST_TIMEOUT_SECONDS, which a caller's `request_timeout` may only shorten) covers
every attempt, the pauses between them and the whole body read: requests' own read timeout bounds each
socket read, not the answer, so a provider trickling a byte at a time would otherwise hold a worker
forever.

What is retried is a conscious choice: an answer saying the provider did not do the work (429, 5xx)
and a failure to connect (nothing was sent). A read timeout or a body cut short is retried only for a
GET: a synthesis POST that timed out may have been received, produced and billed, and retrying it would
pay twice and spend the rest of the deadline waiting again.

The retries are this loop, not urllib3's `Retry` on the adapter: `Retry` gives every attempt the same
timeouts (not what is left of one deadline), sleeps for any Retry-After it is sent (we cap it at 2 s), and
retries statuses and read failures for the same set of methods, where a synthesis POST must be retried on
429/5xx but never after a read timeout.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

from app.errors import UpstreamError
from app.redaction import MASK, redact
from app.settings import TTSSettings

log = logging.getLogger("app.tts.http")

_RETRY_STATUSES = {429, 500, 502, 503, 504}
_MAX_RETRY_AFTER = 2.0
_CHUNK = 64 << 10
# Media types under which a provider may send audio; anything else on a 200 (an HTML page from a proxy, a
# JSON error with the wrong status) is not audio, whatever the body holds.
_AUDIO_MEDIA_TYPES = ("audio/", "application/octet-stream", "binary/octet-stream", "application/ogg")


class ProviderHttp:
    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        connect_timeout: float,
        deadline: float,
        max_retries: int,
        backoff_seconds: float = 0.1,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.deadline = deadline
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.session = requests.Session()
        # Proxy variables are read once, here: with trust_env, requests re-reads the environment and
        # ~/.netrc on every call, which cost a measurable part of a miss (bench/speak.py).
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        self.session.trust_env = False
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @classmethod
    def for_provider(cls, name: str, base_url: str, settings: TTSSettings) -> ProviderHttp:
        return cls(
            name,
            base_url,
            connect_timeout=settings.connect_timeout_seconds,
            deadline=settings.request_timeout_seconds,
            max_retries=settings.max_retries,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        params=None,
        json=None,
        data=None,
        connect_timeout: float | None = None,
        request_timeout: float | None = None,
        expect_audio: bool = False,
    ) -> requests.Response:
        """The provider's answer, its body read in full within the deadline; 429/5xx and connection failures
        are retried, and the last answer (or an UpstreamError when none came) is returned to the caller to
        interpret. `connect_timeout` and `request_timeout` (a caller's) may shorten the server's limits,
        never lengthen them. With `expect_audio`, a 200 that is not audio is an UpstreamError."""
        budget = min(self.deadline, request_timeout or self.deadline)
        ends = time.monotonic() + budget
        connect = min(connect_timeout or self.connect_timeout, self.connect_timeout)
        url = self.base_url + path
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            left = ends - time.monotonic()
            if left <= 0:
                raise self._timeout(budget)
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    json=json,
                    data=data,
                    timeout=(min(connect, left), left),
                    stream=True,
                )
                try:
                    _read_body(response, ends)
                finally:
                    response.close()
            except _DeadlinePassed:
                raise self._timeout(budget) from None
            except (requests.RequestException, Urllib3Error) as exc:
                failure = _failure(exc)
                if last or not (failure == "connect" or method == "GET"):
                    raise self._failed(failure, exc, budget) from None
                self._pause(attempt, None, ends)
                continue
            if response.status_code not in _RETRY_STATUSES or last:
                if expect_audio and response.status_code == 200:
                    self._check_audio(response)
                else:
                    _scrub_credentials(response)
                return response
            log.info("%s answered %s, retrying", self.name, response.status_code)
            self._pause(attempt, response.headers.get("Retry-After"), ends)
        raise AssertionError("unreachable")

    def _check_audio(self, response: requests.Response) -> None:
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media_type and not media_type.startswith(_AUDIO_MEDIA_TYPES):
            raise UpstreamError(f"{self.name} answered with {media_type} instead of audio", code="provider_error")
        if not response.content:
            raise UpstreamError(f"{self.name} returned no audio", code="provider_error")

    def _failed(self, failure: str, exc: Exception, budget: float) -> UpstreamError:
        if failure == "timeout":
            return self._timeout(budget)
        if failure == "connect":
            return UpstreamError(f"{self.name}: cannot be reached ({type(exc).__name__})", code="provider_unreachable")
        return UpstreamError(f"{self.name}: the answer was cut short ({type(exc).__name__})", code="provider_error")

    def _timeout(self, budget: float) -> UpstreamError:
        return UpstreamError(f"{self.name}: no complete answer within {budget:g} s", code="provider_timeout")

    def _pause(self, attempt: int, retry_after: str | None, ends: float) -> None:
        delay = self.backoff_seconds * (2**attempt)
        if retry_after:
            try:
                delay = min(max(delay, float(retry_after)), _MAX_RETRY_AFTER)
            except ValueError:
                pass
        time.sleep(max(0.0, min(delay, ends - time.monotonic())))

    def close(self) -> None:
        self.session.close()


class _DeadlinePassed(Exception):
    pass


def _failure(exc: Exception) -> str:
    """ "connect" (nothing was sent or the pooled connection was dead), "timeout" (sent, no answer in
    time) or "cut" (an answer that broke off)."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connect"
    if isinstance(exc, (requests.ReadTimeout, ReadTimeoutError)):
        return "timeout"
    if isinstance(exc, requests.ConnectionError):
        return "connect"
    return "cut"


# Headers and query parameters that carry a credential in the providers' wire formats.
_CREDENTIAL_HEADERS = {
    "authorization",
    "proxy-authorization",
    "xi-api-key",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "ocp-apim-subscription-key",
}
_CREDENTIAL_PARAMS = ("key", "token", "secret", "sig")


def _scrub_credentials(response: requests.Response) -> None:
    """Remove from a provider's answer (body and reason) every credential value we sent with the request
    (the server's key, or the caller's own `tts_config.auth`): providers and proxies echo them in their
    error text, which becomes our error message and log line."""
    sent = []
    for name, value in response.request.headers.items():
        if name.lower() in _CREDENTIAL_HEADERS:
            sent += [value, *value.split()[1:]]  # the whole value, and the credential after its scheme
    sent += [
        value
        for name, value in parse_qsl(urlsplit(response.request.url or "").query)
        if any(part in name.lower() for part in _CREDENTIAL_PARAMS)
    ]
    secrets = sorted({s for s in sent if len(s) >= 4}, key=len, reverse=True)
    if not secrets:
        return
    body = response.content
    for secret in secrets:
        for form in {secret, json.dumps(secret)[1:-1]}:  # as sent, and as a JSON string would carry it
            body = body.replace(form.encode(), MASK.encode())
    response._content = body
    response.reason = redact(response.reason or "", secrets)


def _read_body(response: requests.Response, ends: float) -> None:
    """Read the whole body into `response.content`, giving up at `ends`. read1 returns whatever has
    arrived, so the clock is checked between reads however slowly the bytes come; a body shorter than its
    Content-Length raises urllib3's IncompleteRead (urllib3 enforces the length)."""
    chunks = []
    while True:
        if time.monotonic() >= ends:
            raise _DeadlinePassed
        chunk = response.raw.read1(_CHUNK, decode_content=True)
        if not chunk:
            break
        chunks.append(chunk)
    # requests' own way of holding a body read in full (what it does itself when stream=False)
    response._content = b"".join(chunks)
    response._content_consumed = True
