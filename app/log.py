"""Structured JSON logs with a request id; secrets are masked before any line is written."""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request
from pythonjsonlogger.json import JsonFormatter

from app.redaction import SecretRedactor, configured_secrets
from app.settings import Settings

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def json_formatter() -> JsonFormatter:
    return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                         rename_fields={"levelname": "level", "asctime": "time"})


class AppLogHandler(logging.StreamHandler):
    """The handler configure_logging installs on the root logger."""


def configure_logging(settings: Settings) -> SecretRedactor:
    """JSON lines on stderr through the redactor, which is returned for other output (error bodies)."""
    redactor = SecretRedactor(configured_secrets(settings))
    handler = AppLogHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, AppLogHandler)]:  # a second app replaces the first's
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # A request line could carry `?api_key=`: werkzeug's dev-server access log is replaced by ours.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return redactor


def gunicorn_logconfig(settings: Settings) -> dict:
    """gunicorn's `logconfig_dict`: its own lines (worker events, malformed requests, which it prints with
    their headers) go through the same JSON formatter and redactor as the app's. The root logger gets no
    handler here: the app adds its own when it is built."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.log.json_formatter"}},
        "filters": {"redact": {"()": "app.redaction.SecretRedactor", "secrets": sorted(configured_secrets(settings))}},
        "handlers": {"json": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "json",
                              "filters": ["redact"]}},
        "root": {"handlers": []},
        "loggers": {name: {"handlers": ["json"], "propagate": False} for name in ("gunicorn.error", "gunicorn.access")},
    }


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
        started = g.get("started")
        auth = g.get("auth")
        access_log.info("request", extra={
            "request_id": request_id,
            "method": request.method,
            "path": request.path,  # never the query string: it may hold ?api_key=
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "tenant": auth.tenant if auth else None,
            "remote_addr": request.remote_addr,
        })
        return response
