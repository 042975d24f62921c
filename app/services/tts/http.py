"""A pooled HTTP session for one provider, with timeouts and bounded retries on 429/5xx."""
from __future__ import annotations

import logging
import time

import requests
from requests.adapters import HTTPAdapter

from app.errors import UpstreamError

log = logging.getLogger("app.tts.http")

_RETRY_STATUSES = {429, 500, 502, 503, 504}
_MAX_RETRY_AFTER = 2.0


class ProviderHttp:
    def __init__(self, name: str, base_url: str, *, connect_timeout: float, read_timeout: float, max_retries: int,
                 backoff_seconds: float = 0.1):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
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

    def request(self, method: str, path: str, *, headers: dict[str, str], params=None, json=None,
                connect_timeout: float | None = None, read_timeout: float | None = None) -> requests.Response:
        """The provider's answer; 429/5xx and connection failures are retried, and the last answer (or an
        UpstreamError when none came) is returned to the caller to interpret."""
        timeout = (connect_timeout or self.connect_timeout, read_timeout or self.read_timeout)
        url = self.base_url + path
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = self.session.request(method, url, headers=headers, params=params, json=json,
                                                timeout=timeout)
            except requests.Timeout:
                if last:
                    raise UpstreamError(f"{self.name}: no answer within {timeout[1]:g} s",
                                        code="provider_timeout") from None
                self._pause(attempt, None)
                continue
            except requests.RequestException as exc:
                if last:
                    raise UpstreamError(f"{self.name}: cannot be reached ({type(exc).__name__})",
                                        code="provider_unreachable") from None
                self._pause(attempt, None)
                continue
            if response.status_code not in _RETRY_STATUSES or last:
                return response
            log.info("%s answered %s, retrying", self.name, response.status_code)
            self._pause(attempt, response.headers.get("Retry-After"))
        raise AssertionError("unreachable")

    def _pause(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff_seconds * (2 ** attempt)
        if retry_after:
            try:
                delay = min(max(delay, float(retry_after)), _MAX_RETRY_AFTER)
            except ValueError:
                pass
        time.sleep(delay)

    def close(self) -> None:
        self.session.close()
