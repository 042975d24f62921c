"""`GET /metrics` (Prometheus text format) and the HTTP instruments: every request counted and timed by
its route template (`/livekit/rooms/<path:room_name>`), never its raw path."""

from __future__ import annotations

import hmac
import time
from typing import Any

from flask import Flask, Response, g, request

from app.errors import Unauthorized
from app.security import public
from app.services.container import Services
from app.services.metrics.exposition import render
from app.services.metrics.instruments import HTTP_DURATION, HTTP_REQUESTS

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def init_metrics(app: Flask, services: Services) -> None:
    """Register before the authentication hook, so refused requests are counted too."""
    settings = services.settings.metrics
    if not settings.enabled:
        return

    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _record(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
            record_request(request.method, route, response.status_code, started)
        return response

    @public
    def metrics():
        if settings.token and not _bearer_matches(settings.token):
            raise Unauthorized(
                "GET /metrics needs the METRICS_TOKEN as a bearer token", headers={"WWW-Authenticate": "Bearer"}
            )
        return Response(render(services.cache.totals), content_type=_CONTENT_TYPE)

    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])


def record_request(method: str, route: str, status: int, started: float) -> None:
    """Count and time one answered request (also called by the WSGI fast path for cache hits)."""
    method = method if method in _METHODS else "OTHER"
    _child(HTTP_REQUESTS, method, route, str(status)).inc()
    _child(HTTP_DURATION, method, route).observe(time.perf_counter() - started)


# Labelled children by label values, looked up without prometheus_client's lock: `labels()` takes it on
# every call, and the request threads queued on it (a sixth of a cache hit's samples under load).
_CHILDREN: dict[tuple, Any] = {}


def _child(metric, *labels: str):
    key = (metric, *labels)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*labels)
    return child


def _bearer_matches(token: str) -> bool:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
