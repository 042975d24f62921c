"""A pooled HTTP session for one provider: one deadline per call, bounded retries on 429/5xx, and audio
answers checked before anyone sees them.

The deadline (TTS_REQUEST_TIMEOUT_SECONDS, which a caller's `request_timeout` may only shorten) covers
every attempt, the pauses between them and the whole body read, in full (`request`, `AudioAnswer.read`)
or as it arrives (`AudioAnswer.chunks`, a stream): requests' own read timeout bounds each socket read,
not the answer, so a provider trickling a byte at a time would otherwise hold a worker forever. The clock
is checked between reads, and at the deadline the watchdog shuts the socket, ending a read that would
otherwise wait out its own timeout (set to what was left when the request went out).

What is retried is a conscious choice: an answer saying the provider did not do the work (429, 5xx)
and a failure to connect (nothing was sent). A read timeout or a body cut short is retried only for a
GET: a synthesis POST that timed out may have been received, produced and billed, and retrying it would
pay twice and spend the rest of the deadline waiting again. Nothing is retried once a 200's body has
started (a stream may already have relayed it).

The retries are this loop, not urllib3's `Retry` on the adapter: `Retry` gives every attempt the same
timeouts (not what is left of one deadline), sleeps for any Retry-After it is sent (we cap it at 2 s), and
retries statuses and read failures for the same set of methods, where a synthesis POST must be retried on
429/5xx but never after a read timeout.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

from app.errors import UpstreamError
from app.redaction import MASK, redact
from app.services.tts.watchdog import WATCHDOG
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

    def request(self, method: str, path: str, **call: Any) -> requests.Response:
        """The provider's answer, its body read in full within the deadline; 429/5xx and connection failures
        are retried, and the last answer (or an UpstreamError when none came) is returned to the caller to
        interpret. `call`: `_send`'s keywords."""
        return self._send(method, path, audio=False, **call).response

    def open_audio(self, method: str, path: str, **call: Any) -> AudioAnswer:
        """A synthesis call, retried as `request` retries (before the answer's first byte only). A 200 that is
        not audio is an UpstreamError; a 200 that is comes back with its body still on the wire, to be read
        before the same deadline; any other answer comes back read in full, as `request` returns it."""
        return self._send(method, path, audio=True, **call)

    def _send(
        self,
        method: str,
        path: str,
        *,
        audio: bool,
        headers: dict[str, str],
        params: Any = None,
        json: Any = None,
        data: bytes | None = None,
        connect_timeout: float | None = None,
        request_timeout: float | None = None,
    ) -> AudioAnswer:
        """One call, retried. `connect_timeout` and `request_timeout` (a caller's) may shorten the server's
        limits, never lengthen them."""
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
                answer = AudioAnswer(self, response, ends, budget)
                if audio and response.status_code == 200:
                    answer.check_media_type()
                    return answer
                answer.read_in_full()
            except _DeadlinePassed:
                raise self._timeout(budget) from None
            except (requests.RequestException, Urllib3Error) as exc:
                failure = _failure(exc)
                if last or not (failure == "connect" or method == "GET"):
                    raise self._failed(failure, exc, budget) from None
                self._pause(attempt, None, ends)
                continue
            if response.status_code not in _RETRY_STATUSES or last:
                return answer
            log.info("%s answered %s, retrying", self.name, response.status_code)
            self._pause(attempt, response.headers.get("Retry-After"), ends)
        raise AssertionError("unreachable")

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


class AudioAnswer:
    """A provider's answer to a synthesis call. For a 200, the audio body still on the wire: `chunks()` reads
    it as it arrives, `read()` in full, both before the call's deadline, which the watchdog enforces by
    shutting the socket (requests' read timeout bounds each socket read, not the answer: a provider trickling a byte
    at a time would pass every per-read check). Any other status: `response` read in full and scrubbed of
    the credentials we sent, for the provider to turn into its error."""

    def __init__(self, http: ProviderHttp, response: requests.Response, ends: float, budget: float):
        self.http = http
        self.response = response
        self.status_code = response.status_code
        self._ends = ends
        self._budget = budget
        self._lock = threading.Lock()
        self._deadline: int | None = None  # the watchdog's token
        self._expired = False
        self._closed = False

    @property
    def content_length(self) -> int | None:
        """The length the provider announced (None: a chunked answer, its length known at its end)."""
        value = self.response.headers.get("Content-Length", "")
        return int(value) if value.isdigit() and "Content-Encoding" not in self.response.headers else None

    def check_media_type(self) -> None:
        media_type = self.response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media_type and not media_type.startswith(_AUDIO_MEDIA_TYPES):
            self.close()
            raise UpstreamError(f"{self.http.name} answered with {media_type} instead of audio", code="provider_error")

    def read_in_full(self) -> None:
        """Read a non-audio answer in full (an error, a catalog) and scrub it, for the caller to interpret.
        Raises what the read raised, for the retry loop to judge."""
        try:
            self.response._content = b"".join(self._arriving())  # requests' own way of holding a read body
        finally:
            self.close()
        _scrub_credentials(self.response)

    def read(self) -> bytes:
        """The whole audio body."""
        data = b"".join(self.chunks())
        if not data:
            raise UpstreamError(f"{self.http.name} returned no audio", code="provider_error")
        return data

    def chunks(self) -> Iterator[bytes]:
        """The body as it arrives, in non-empty chunks, until its end; an UpstreamError when it breaks off
        (a body shorter than its Content-Length is urllib3's IncompleteRead), the deadline passes or the
        answer is closed under it. The answer is closed when the body ends, fails or the consumer stops."""
        try:
            yield from self._arriving()
        except _DeadlinePassed:
            raise self.http._timeout(self._budget) from None
        except _Abandoned:
            raise UpstreamError(
                f"{self.http.name}: the answer was closed before its end", code="provider_error"
            ) from None
        except (requests.RequestException, Urllib3Error, OSError) as exc:
            raise self.http._failed(_failure(exc), exc, self._budget) from None
        finally:
            self.close()

    def _arriving(self) -> Iterator[bytes]:
        with self._lock:
            if self._closed:
                raise _Abandoned
            self._deadline = WATCHDOG.call_at(self._ends, self._expire)
        while True:
            if time.monotonic() >= self._ends:
                raise _DeadlinePassed
            try:
                chunk = self.response.raw.read1(_CHUNK, decode_content=True)
            except Exception:
                if self._expired:
                    raise _DeadlinePassed from None
                if self._closed:  # closed by another thread mid-read: whatever the read tripped on
                    raise _Abandoned from None
                raise
            if self._expired:  # a shut socket reads as the end of a body without a length
                raise _DeadlinePassed
            if self._closed:
                raise _Abandoned
            if not chunk:
                return
            yield chunk

    def _expire(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._expired = True
            _shut(self.response)

    def close(self) -> None:
        """Release the connection: back to the pool when the body was read to its end, else closed
        (idempotent; from another thread mid-read, the read ends in an UpstreamError)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._deadline is not None:
                WATCHDOG.cancel(self._deadline)
            _shut(self.response)  # a read blocked in another thread returns now
        self.response.close()


def _shut(response: requests.Response) -> None:
    """Shut the socket of a body being read, which unblocks a read in progress in whichever thread runs it."""
    try:
        response.raw.shutdown()
    except (ValueError, RuntimeError, OSError):  # no socket, or the body ended and it is back in the pool
        pass


class _DeadlinePassed(Exception):
    pass


class _Abandoned(requests.RequestException):
    """The answer was closed before its body ended."""
