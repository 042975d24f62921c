"""What reaches a view is bounded: the body before anyone reads it, whether it announces its length or
not, and the strings of the path and query (JSON bodies are checked by `app.strict_json` when parsed).

Flask enforces MAX_CONTENT_LENGTH up front only for a Content-Length; a chunked body is cut at the limit
while being read, so a parser sees a truncated document (a 50 MB chunked upload was answered "invalid
JSON"). Here a chunked body is read once, never past limit + 1 bytes: over the limit it is a 413 like
its announced counterpart, and under it the body becomes an ordinary sized one for everyone after us.
"""

from __future__ import annotations

import io

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from app import strict_json
from app.errors import BadRequest

_CHUNK = 64 << 10


def init_input_limits(app: Flask, limit: int) -> None:
    app.config["MAX_CONTENT_LENGTH"] = limit

    @app.before_request
    def _refuse_unstorable_text():
        """A NUL or an unpaired surrogate in the path or the query would fail far away (PostgreSQL
        refuses NUL in text): refused here, for every route."""
        values = [*request.args.keys(), *request.args.values()]
        converters = request.url_rule._converters if request.url_rule else {}  # werkzeug keeps them so
        values += [
            value
            for name, value in (request.view_args or {}).items()
            if not getattr(converters.get(name), "checks_own_text", False)
        ]
        for value in values:
            if isinstance(value, str):
                try:
                    strict_json.check_string(value)
                except strict_json.InvalidJson as exc:
                    raise BadRequest(f"Invalid URL: {exc}") from None

    @app.before_request
    def _bound_chunked_body():
        environ = request.environ
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        # Only a server that ends the stream itself (gunicorn does) can be read without a length.
        if not chunked or environ.get("CONTENT_LENGTH") or not environ.get("wsgi.input_terminated"):
            return
        body = bytearray()
        stream = environ["wsgi.input"]
        while len(body) <= limit:
            chunk = stream.read(min(_CHUNK, limit + 1 - len(body)))
            if not chunk:
                break
            body += chunk
        if len(body) > limit:
            raise RequestEntityTooLarge()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
