"""The one place errors become responses: `ApiError`s with their status and code, validation and routing
errors as 400/404/405..., and surprises as a 500 that only names the request id."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify
from werkzeug.exceptions import HTTPException

from app.errors import ApiError
from app.redaction import SecretRedactor

log = logging.getLogger("app.errors")

_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "invalid_request",
    429: "too_many_requests",
}


def error_response(message: str, code: str, status: int, headers: dict[str, str] | None = None):
    response = jsonify({"error": message, "code": code})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def validation_message(messages) -> str:
    """Flatten webargs/marshmallow messages ({"json": {"text": ["..."]}}) into one sentence naming the
    first bad field, e.g. "text: Missing data for required field."."""
    path: list[str] = []
    node = messages
    while isinstance(node, dict) and node:
        key, node = next(iter(node.items()))
        if key not in ("json", "query", "path", "form", "headers", "view_args", "_schema"):
            path.append(str(key))
    if isinstance(node, list) and node:
        first = node[0]
        while isinstance(first, (list, dict)) and first:
            first = first[0] if isinstance(first, list) else next(iter(first.values()))
        detail = str(first)
    else:
        detail = str(node) if node else "Invalid input."
    return f"{'.'.join(path)}: {detail}" if path else detail


def register_error_handlers(app: Flask, redactor: SecretRedactor) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(exc: ApiError):
        # Messages may carry upstream text: no configured secret or credential fragment leaves in one.
        message = redactor.redact(exc.message)
        if exc.status >= 500:
            log.warning("request failed: %s (%s)", message, exc.code)
        return error_response(message, exc.code, exc.status, exc.headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        status = exc.code or 500
        data = getattr(exc, "data", None) or {}
        if "messages" in data:  # webargs / flask-smorest validation failure
            return error_response(validation_message(data["messages"]), "invalid_request", 400)
        headers = {}
        allowed = getattr(exc, "valid_methods", None)  # werkzeug's MethodNotAllowed carries it
        if status == 405 and allowed:
            headers["Allow"] = ", ".join(allowed)
        message = (
            {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}.get(status)
            or exc.description
            or exc.name
        )
        return error_response(message, _HTTP_CODES.get(status, "http_error"), status, headers)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        request_id = getattr(g, "request_id", "-")
        log.exception("unhandled exception (request id %s)", request_id)
        return error_response(f"Internal server error (request id {request_id})", "internal_error", 500)
