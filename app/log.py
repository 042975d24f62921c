"""Structured JSON logs, Flask-free (request ids and the access line are in app/request_log.py); secrets are
masked before any line is written."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from app.redaction import SecretRedactor, configured_secrets
from app.settings import Settings


def json_formatter() -> JsonFormatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level", "asctime": "time"}
    )


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
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
                "filters": ["redact"],
            }
        },
        "root": {"handlers": []},
        "loggers": {name: {"handlers": ["json"], "propagate": False} for name in ("gunicorn.error", "gunicorn.access")},
    }
