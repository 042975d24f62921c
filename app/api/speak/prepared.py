"""Identical /speak requests skip validation and resolution.

A cache hit is mostly request handling: parsing and validating the body cost more than finding and
serving the audio (measured with bench/speak.py). Clients repeat the very same prompts (IVR menus, agent
greetings), so a body (or a GET's query string) that was already validated, under the same Content-Type
and Accept, reuses its prepared request: the outcome depends only on those bytes and the settings, which
never change while the process runs. Only successful preparations are kept; errors are always computed
afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Flask, current_app, request
from werkzeug.http import parse_options_header

from app.services.tts.speech import PreparedSpeech

_MAX_ENTRIES = 1024
_MAX_BODY_BYTES = 4096


@dataclass(frozen=True)
class PreparedAnswer:
    """What answering a known request needs besides the audio."""

    speech: PreparedSpeech
    nested: bool  # the SDKs' form: audio bytes by default
    location: str | None  # the GET URL of the same prompt, when it has one


class PreparedRequests:
    """Per app (a prepared request holds that app's provider and settings): `PreparedRequests.of_app()`."""

    def __init__(self):
        self._entries: OrderedDict[tuple, PreparedAnswer] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def of_app(cls) -> PreparedRequests:
        return cls.for_app(current_app)

    @classmethod
    def for_app(cls, app: Flask) -> PreparedRequests:
        return app.extensions.setdefault("prepared_speech", cls())

    @staticmethod
    def key_of(environ: dict, body: bytes | None) -> tuple | None:
        """What the outcome of preparing a request depends on, from its WSGI environ and (for a POST) its
        body; None when it is too long to keep."""
        method = environ.get("REQUEST_METHOD")
        text: str | bytes = environ.get("QUERY_STRING", "") if method in ("GET", "HEAD") else body or b""
        if len(text) > _MAX_BODY_BYTES:
            return None
        mimetype = parse_options_header(environ.get("CONTENT_TYPE", ""))[0].lower()
        return method == "POST", mimetype, environ.get("HTTP_ACCEPT", ""), text

    @classmethod
    def _key(cls) -> tuple | None:
        body = None if request.method in ("GET", "HEAD") else request.get_data(cache=True)
        return cls.key_of(request.environ, body)

    @classmethod
    def reuse(cls, respond: Callable[[PreparedAnswer], object]):
        """Decorator (outside the argument parsing): answer a known request with `respond(answer)`."""

        def decorator(view):
            @wraps(view)
            def wrapper(*args, **kwargs):
                known = cls.of_app().known()
                if known is not None:
                    return respond(known)
                return view(*args, **kwargs)

            return wrapper

        return decorator

    def known(self) -> PreparedAnswer | None:
        return self.find(self._key())

    def find(self, key: tuple | None) -> PreparedAnswer | None:
        if key is None:
            return None
        with self._lock:
            return self._entries.get(key)

    def remember(self, answer: PreparedAnswer) -> None:
        key = self._key()
        if key is None:
            return
        with self._lock:
            self._entries[key] = answer
            if len(self._entries) > _MAX_ENTRIES:
                self._entries.popitem(last=False)
