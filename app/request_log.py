"""Flask side of logging: every request gets a request id and one `app.access` line.

The helpers are shared with the WSGI fast path for cache hits (app/api/speak/fast_hits.py), which answers
without Flask but must keep the same request id rule and the same access line."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid

from flask import Flask, g, request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # an incoming X-Request-ID made of these is kept

access_log = logging.getLogger("app.access")


def request_id_for(incoming: str) -> str:
    return incoming if _REQUEST_ID.match(incoming) else os.urandom(16).hex()  # uuid4().hex costs 4x as much


def log_access(
    request_id: str, method: str, path: str, status: int, started: float | None, tenant: str | None, remote_addr
) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return  # LOG_LEVEL above INFO: the line's fields are not even gathered
    access_log.info(
        "request",
        extra={
            "request_id": request_id,
            "method": method,
            "path": path,  # never the query string: it may hold ?api_key=
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "tenant": tenant,
            "remote_addr": remote_addr,
        },
    )


def init_request_logging(app: Flask) -> None:
    @app.before_request
    def _start():
        g.request_id = request_id_for(request.headers.get("X-Request-ID", ""))
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        auth = g.get("auth")
        log_access(
            request_id,
            request.method,
            request.path,
            response.status_code,
            g.get("started"),
            auth.tenant if auth else None,
            request.remote_addr,
        )
        return response
