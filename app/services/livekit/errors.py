"""LiveKit failures, as members of our one error hierarchy.

The client raises `LiveKitError` (LiveKit answered with a Twirp error) or `LiveKitUnreachable`
(no answer at all); the room and SIP services turn them into the endpoint's own codes."""

from __future__ import annotations

from app.errors import NotConfigured, UpstreamError


class LiveKitNotConfigured(NotConfigured):
    code, message = "livekit_not_configured", "LiveKit service not configured"


class LiveKitError(UpstreamError):
    """LiveKit answered with an error. `twirp_code` is LiveKit's own code (`not_found`, ...)."""

    code = "livekit_error"

    def __init__(
        self, message: str, *, twirp_code: str = "unknown", http_status: int | None = None, meta: dict | None = None
    ):
        super().__init__(message)
        self.twirp_code = twirp_code
        self.http_status = http_status
        self.meta = meta or {}

    @property
    def not_found(self) -> bool:
        return self.twirp_code == "not_found"


class LiveKitUnreachable(LiveKitError):
    """No answer from LiveKit: connection refused, reset, or timed out."""

    code = "livekit_unreachable"

    def __init__(self, message: str, *, timed_out: bool = False):
        super().__init__(message, twirp_code="unavailable")
        self.timed_out = timed_out
