"""Flask side of logging: every request gets a request id and one `app.access` line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # an incoming X-Request-ID made of these is kept

access_log = logging.getLogger("app.access")


def init_request_logging(app: Flask) -> None:
    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        if not access_log.isEnabledFor(logging.INFO):
            return response  # LOG_LEVEL above INFO: the line's fields are not even gathered
        started = g.get("started")
        auth = g.get("auth")
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,  # never the query string: it may hold ?api_key=
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
                "tenant": auth.tenant if auth else None,
                "remote_addr": request.remote_addr,
            },
        )
        return response
