"""Cache hits of known /speak requests, answered in front of Flask.

A hit is mostly request handling: under wrk, Flask's request context, routing and hooks were two thirds
of a hit's samples, and hits ran at 0.57 of a plain Flask app returning the same bytes (bench/speak.py).
A request whose exact bytes were already prepared (`PreparedRequests`) and whose audio is in the cache
needs none of that. It is answered here with the very response the route builds (`audio_response`), the
same request id, metrics and access line. Everything else goes on to Flask unchanged: HEAD, a condition
or a range, a token for a delegated auth service, a body that is chunked or too long to be a known one, the JSON form, a miss, and
any failure here (Flask then answers it, or its error, as always).
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

from flask import Flask
from werkzeug.wrappers import Request
from werkzeug.wsgi import wrap_file

from app.api.metrics import record_request
from app.api.speak.audio_response import CONDITIONS, audio_response, delivery_for
from app.api.speak.negotiation import AUDIO, response_form
from app.api.speak.prepared import PreparedAnswer, PreparedRequests
from app.extensions import SERVICES_KEY
from app.request_log import log_access, request_id_for
from app.services.auth import RequestInfo
from app.services.tts.speech import CachedSpeech

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
_ROUTE = "/speak"  # the route's template, as Flask's path labels it in metrics
_MAX_BODY = 4096  # PreparedRequests keeps no longer body
_MAX_KNOWN = 4096

_NO_REQUEST = RequestInfo(method="", path="", headers={}, body=b"")  # what only a delegated auth service reads
log = logging.getLogger(__name__)


class FastHits:
    def __init__(self, app: Flask, wsgi_app: WsgiApp):
        services = app.extensions[SERVICES_KEY]
        self.wsgi_app = wsgi_app
        self.authenticator = services.authenticator
        # API secrets are checked here; a delegated auth service is asked only by Flask's hook
        self.enabled = not self.authenticator.required or bool(self.authenticator.settings.api_secrets)
        self.speech = services.speech
        self.prepared = PreparedRequests.for_app(app)
        self.deliveries = {method: delivery_for(services.settings, method) for method in ("GET", "POST")}
        self.metrics = services.settings.metrics.enabled
        self._known_headers: OrderedDict[tuple, list] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if self.enabled and environ.get("PATH_INFO") == _ROUTE:
            try:
                answered = self._hit(environ, start_response)
            except Exception:  # noqa: BLE001 - Flask answers the request again, and reports what failed
                log.debug("fast path gave way to Flask", exc_info=True)
                answered = None
            if answered is not None:
                return answered
        return self.wsgi_app(environ, start_response)

    def _hit(self, environ: dict, start_response: Callable) -> Iterable[bytes] | None:
        method = environ.get("REQUEST_METHOD")
        if method not in self.deliveries or CONDITIONS.intersection(environ):
            return None
        started = time.perf_counter()
        tenant = self._tenant(environ)
        answer = self._known(environ, method)
        if answer is None:
            return None
        if method == "POST" and response_form(environ.get("HTTP_ACCEPT"), answer.nested) != AUDIO:
            return None
        hit = self.speech.cached_file(answer.speech)
        if hit is None:
            return None
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        delivery = self.deliveries[method]
        if delivery.accel_location:
            response = audio_response(Request(environ), hit, delivery, answer.location)
            response.headers["X-Request-ID"] = request_id
            body = response(environ, start_response)
        else:
            start_response("200 OK", [*self._headers(environ, method, answer, hit), ("X-Request-ID", request_id)])
            body = wrap_file(environ, hit.file)
        if self.metrics:
            record_request(method, _ROUTE, 200, started)
        log_access(request_id, method, _ROUTE, 200, started, tenant, environ.get("REMOTE_ADDR"))
        return body

    def _headers(self, environ: dict, method: str, answer: PreparedAnswer, hit: CachedSpeech) -> list:
        """The headers the route's `audio_response` gives this entry's answer, computed once per entry (they
        depend on nothing else) rather than on every hit."""
        key = (method, answer.speech.cache_key, answer.location, hit.entry)
        headers = self._known_headers.get(key)
        if headers is None:
            response = audio_response(
                Request(environ), replace(hit, file=io.BytesIO()), self.deliveries[method], answer.location
            )
            headers = response.get_wsgi_headers(environ).to_wsgi_list()
            with self._lock:
                self._known_headers[key] = headers
                if len(self._known_headers) > _MAX_KNOWN:
                    self._known_headers.popitem(last=False)
        return headers

    def _tenant(self, environ: dict) -> str | None:
        """The caller's tenant; raises (and Flask then answers the refusal) when the token is wrong."""
        if not self.authenticator.required:
            return None
        query = environ.get("QUERY_STRING", "")
        api_key = parse_qs(query).get("api_key", [None])[0] if "api_key=" in query else None
        return self.authenticator.authenticate(environ.get("HTTP_AUTHORIZATION"), api_key, _NO_REQUEST).tenant

    def _known(self, environ: dict, method: str) -> PreparedAnswer | None:
        body = None
        if method == "POST":
            body = _small_body(environ)
            if body is None:
                return None
        return self.prepared.find(PreparedRequests.key_of(environ, body))


def _small_body(environ: dict[str, Any]) -> bytes | None:
    """A body short enough to be a known one, read once and put back for Flask; None without a length."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if not 0 < length <= _MAX_BODY or environ.get("HTTP_TRANSFER_ENCODING"):
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body
