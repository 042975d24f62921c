"""Session recordings, streamed from an S3-compatible object store, Google Cloud Storage or a local directory."""

from app.services.recordings.download import Download, DownloadRequest
from app.services.recordings.errors import (
    InvalidStreamId,
    RecordingNotFound,
    StorageNotConfigured,
    StorageUnavailable,
    StreamIdTaken,
)
from app.services.recordings.service import Recordings, build_store
from app.services.recordings.store import ByteRange, RecordingInfo, object_key
from app.services.recordings.stream_id import MAX_STREAM_ID_BYTES, STREAM_ID_PATTERN, validate_stream_id

__all__ = [
    "ByteRange",
    "Download",
    "DownloadRequest",
    "InvalidStreamId",
    "MAX_STREAM_ID_BYTES",
    "STREAM_ID_PATTERN",
    "RecordingInfo",
    "RecordingNotFound",
    "Recordings",
    "StorageNotConfigured",
    "StorageUnavailable",
    "StreamIdTaken",
    "build_store",
    "object_key",
    "validate_stream_id",
]
