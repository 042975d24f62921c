"""Masking secrets in text: the one redactor behind log lines, error bodies and upstream text.

Flask-free, so services (the provider HTTP layer) scrub what an upstream echoes before it becomes our
error, and the web layer and every log handler (the app's and gunicorn's) use the same rules."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable

MASK = "***"
_CREDENTIAL_CHARS = r"[A-Za-z0-9._~+/=-]"
# Credentials that can appear in free text even when we never log them on purpose: every header form we
# send (`Authorization: Token|Bearer|Basic`, `xi-api-key`, `X-API-Key`, `x-goog-api-key`,
# `Ocp-Apim-Subscription-Key`), `name=value` and `"name": "value"` fragments, and keys in query strings.
_PATTERNS = [
    (re.compile(rf"(?i)\b((?:bearer|token|basic)\s+){_CREDENTIAL_CHARS}{{8,}}"), rf"\1{MASK}"),
    (
        re.compile(
            r"(?i)\b((?:xi-api-key|x-api-key|x-goog-api-key|ocp-apim-subscription-key|subscription[-_]key|"
            r"api[-_]?key|token|secret|password|auth_password)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,}]+"
        ),
        rf"\1{MASK}",
    ),
    (re.compile(r"([?&](?:key|sig|signature)=)[^&\s\"']+"), rf"\1{MASK}"),
]
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words


class SecretRedactor(logging.Filter):
    """Replaces the given secret values and credential-looking fragments with `***`; also a logging filter."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = sorted((s for s in set(secrets) if s and len(s) >= _MIN_SECRET_LENGTH), key=len, reverse=True)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secret values (longest first) and credential fragments."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def configured_secrets(settings) -> set[str]:
    """Every secret in the settings: the string values of fields declared with `repr=False` (the
    settings' own mark for a secret), however deep, so a new provider's key is covered by declaring it."""
    found: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for item in dataclasses.fields(value):
                child = getattr(value, item.name)
                if not item.repr and isinstance(child, str) and child:
                    found.add(child)
                else:
                    walk(child)

    walk(settings)
    return found
