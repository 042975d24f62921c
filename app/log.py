"""Structured JSON logs with a request id; secrets are masked before any line is written."""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request
from pythonjsonlogger.json import JsonFormatter

from app.settings import Settings

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Credentials that can appear in free text even when we never log them on purpose.
_SECRET_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), r"\1***"),
    (re.compile(r"(?i)((?:api_key|token|secret|password|auth_password)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,}]+"), r"\1***"),
]


class SecretRedactor(logging.Filter):
    """Replaces configured secret values and credential-looking fragments with `***`."""

    def __init__(self, secrets: set[str]):
        super().__init__()
        self.secrets = sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "***")
        for pattern, replacement in _SECRET_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def configured_secrets(settings: Settings) -> set[str]:
    values = {s.secret for s in settings.auth.api_secrets}
    values |= {settings.livekit.api_secret, settings.tts.deepgram_api_key, settings.tts.elevenlabs_api_key,
               settings.recording.s3_secret_key, settings.sip.outbound_auth_password, settings.sip.hook_secret}
    values |= {h.secret for h in settings.sip.hooks}
    return {v for v in values if v}


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"levelname": "level", "asctime": "time"}))
    handler.addFilter(SecretRedactor(configured_secrets(settings)))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_sayna", False)]:
        root.removeHandler(old)
    handler._sayna = True
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # A request line could carry `?api_key=`: werkzeug's dev-server access log is replaced by ours.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


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
