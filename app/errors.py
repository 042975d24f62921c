"""The one error hierarchy, Flask-free: services raise these with their status and code, and
`app.api.errors` turns them (and validation errors, routing errors and surprises) into
`{"error": "<message>", "code": "<code>"}`."""

from __future__ import annotations


class ApiError(Exception):
    status = 500
    code = "internal_error"
    message = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(ApiError):
    status, code, message = 400, "invalid_request", "Invalid request"


class Unauthorized(ApiError):
    status, code, message = 401, "unauthorized", "Unauthorized"


class Forbidden(ApiError):
    status, code, message = 403, "forbidden", "Forbidden"


class NotFound(ApiError):
    status, code, message = 404, "not_found", "Not found"


class MethodNotAllowed(ApiError):
    status, code, message = 405, "method_not_allowed", "Method not allowed"


class RangeNotSatisfiable(ApiError):
    status, code, message = 416, "range_not_satisfiable", "Requested range not satisfiable"


class NotConfigured(ApiError):
    """A feature whose configuration is missing (LiveKit keys, provider keys, ...)."""

    status, code, message = 500, "not_configured", "Service not configured"


class UpstreamError(ApiError):
    """An upstream service (TTS provider, LiveKit, storage) failed; the message names it."""

    status, code, message = 500, "upstream_error", "Upstream service failed"


class BadGateway(ApiError):
    status, code, message = 502, "bad_gateway", "Bad gateway"


class ServiceUnavailable(ApiError):
    status, code, message = 503, "service_unavailable", "Service unavailable"
