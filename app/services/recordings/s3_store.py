"""Recordings in any S3-compatible object store, through boto3."""

from __future__ import annotations

import logging
import threading

from botocore.exceptions import BotoCoreError, ClientError

from app.services.recordings.errors import RecordingChanged, RecordingNotFound, StorageUnavailable
from app.services.recordings.store import (
    CHUNK_BYTES,
    ByteRange,
    RecordingBody,
    RecordingInfo,
    RecordingStore,
    object_key,
    owner_from_metadata,
)
from app.services.s3_client import s3_client
from app.settings import RecordingSettings

log = logging.getLogger("app.recordings.s3")

# A store that is down must answer 503 within seconds, not hang a worker: short connect timeout and a
# single retry. The read timeout bounds a stalled transfer between two chunks, not the whole download.
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 20
MAX_ATTEMPTS = 2
_NOT_FOUND_CODES = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}


class S3RecordingStore(RecordingStore):
    def __init__(self, settings: RecordingSettings):
        self._settings = settings
        self._client = None
        self._lock = threading.Lock()

    @property
    def client(self):
        """One boto3 client per store (per app and worker), built on first use: boto3 clients are
        thread-safe once built, but building one is not."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = s3_client(
                        self._settings,
                        connect_timeout=CONNECT_TIMEOUT_SECONDS,
                        read_timeout=READ_TIMEOUT_SECONDS,
                        max_attempts=MAX_ATTEMPTS,
                    )
        return self._client

    def _key(self, stream_id: str) -> str:
        return object_key(self._settings.prefix, stream_id)

    def describe(self, stream_id: str) -> RecordingInfo:
        try:
            head = self.client.head_object(Bucket=self._settings.s3_bucket, Key=self._key(stream_id))
        except (BotoCoreError, ClientError) as exc:
            raise _translate(exc, stream_id) from None
        return _info(head)

    def describe_and_open(self, stream_id: str) -> tuple[RecordingInfo, RecordingBody]:
        # One GET instead of HEAD + GET: a plain download costs what boto3's own download costs.
        try:
            response = self.client.get_object(Bucket=self._settings.s3_bucket, Key=self._key(stream_id))
        except (BotoCoreError, ClientError) as exc:
            raise _translate(exc, stream_id) from None
        return _info(response), _S3Body(response["Body"])

    def open(self, stream_id: str, expected: RecordingInfo, byte_range: ByteRange | None) -> RecordingBody:
        params = {"Bucket": self._settings.s3_bucket, "Key": self._key(stream_id)}
        if expected.etag:
            params["IfMatch"] = expected.etag
        if byte_range is not None:
            params["Range"] = f"bytes={byte_range.start}-{byte_range.end}"
        try:
            response = self.client.get_object(**params)
        except (BotoCoreError, ClientError) as exc:
            if _error_code(exc) == "PreconditionFailed":
                raise RecordingChanged() from None
            raise _translate(exc, stream_id) from None
        return _S3Body(response["Body"])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class _S3Body(RecordingBody):
    def __init__(self, body):
        self._body = body  # botocore StreamingBody over the urllib3 response

    def __iter__(self):
        try:
            yield from self._body.iter_chunks(CHUNK_BYTES)
        except Exception as exc:
            # The status line is already sent: all we can do is cut the connection so the client sees
            # a short body rather than a complete-looking one.
            log.warning("recording transfer from S3 failed mid-stream: %s", type(exc).__name__)
            raise
        finally:
            self.close()

    def close(self) -> None:
        # Closing the urllib3 response closes its socket instead of draining the rest of the object.
        self._body.close()


def _info(response: dict) -> RecordingInfo:
    """Size, entity tag and owner from a HEAD or a whole-object GET response."""
    return RecordingInfo(
        size=int(response["ContentLength"]),
        etag=response.get("ETag") or "",
        last_modified=response.get("LastModified"),
        owner=owner_from_metadata(response.get("Metadata")),
    )


def _error_code(exc: Exception) -> str | None:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "") or None
    return None


def _translate(exc: BotoCoreError | ClientError, stream_id: str) -> Exception:
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404 or _error_code(exc) in _NOT_FOUND_CODES:
            return RecordingNotFound(f"Recording not found: {stream_id}")
        log.warning("S3 refused a recording request: HTTP %s %s", status, _error_code(exc))
        return StorageUnavailable("Failed to retrieve recording from storage")
    log.warning("S3 unreachable for a recording request: %s: %s", type(exc).__name__, exc)
    return StorageUnavailable("Recording storage is unavailable")
