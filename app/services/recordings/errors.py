"""The errors of the recording download, as the API answers them."""

from __future__ import annotations

from app.errors import ApiError, BadRequest, NotFound, ServiceUnavailable


class InvalidStreamId(BadRequest):
    code = "invalid_stream_id"


class RecordingNotFound(NotFound):
    code = "recording_not_found"


class StorageNotConfigured(ServiceUnavailable):
    code, message = "storage_not_configured", "Recording storage not configured"


class StorageUnavailable(ServiceUnavailable):
    code, message = "storage_unavailable", "Recording storage is unavailable"


class StreamIdTaken(ApiError):
    status, code = 409, "recording_exists"


class RecordingChanged(Exception):
    """The object was replaced between describing it and opening it; the caller starts over."""
