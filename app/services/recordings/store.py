"""What every recording backend offers: describe an object, then stream it (or a byte range of it)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from app.services.recordings.errors import RecordingChanged

RECORDING_FILE_NAME = "audio.ogg"
# Where a store that cannot keep the owner in the object's own metadata keeps it: beside the object, in
# `audio.ogg.metadata.json` (`{"auth_id": "acme"}`).
OWNER_SUFFIX = ".metadata.json"
# Measured with bench/recording.py (256 MiB from a local S3, 2 CPUs): 1 MiB chunks reach 0.81-0.87 of
# boto3's own streamed throughput, 256 KiB 0.74-0.78 and 4 MiB 0.68-0.71 (more copies per syscall);
# the worker's peak RSS stays within 1 MB of idle at 1 MiB, 8 MB at 4 MiB.
CHUNK_BYTES = 1024 * 1024


def object_key(prefix: str, stream_id: str) -> str:
    """`{prefix}/{stream_id}/audio.ogg`, as LiveKit's egress writes it (no leading "/" when the prefix is empty)."""
    prefix = prefix.strip("/")
    return f"{prefix}/{stream_id}/{RECORDING_FILE_NAME}" if prefix else f"{stream_id}/{RECORDING_FILE_NAME}"


@dataclass(frozen=True)
class RecordingInfo:
    size: int
    etag: str  # a quoted strong entity tag, e.g. '"d711bc67..."'
    last_modified: datetime | None = None
    owner: str | None = None  # the tenant (auth id) that owns the recording, when one is recorded


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class RecordingBody(ABC):
    """The bytes of a recording, read in chunks; `close()` releases the file or connection at once,
    whether or not the body was read to the end (a client that hangs up mid-download)."""

    @abstractmethod
    def __iter__(self) -> Iterator[bytes]: ...

    @abstractmethod
    def close(self) -> None: ...


class RecordingStore(ABC):
    @abstractmethod
    def describe(self, stream_id: str) -> RecordingInfo:
        """Size, entity tag and owner of the recording; RecordingNotFound or StorageUnavailable."""

    @abstractmethod
    def open(self, stream_id: str, expected: RecordingInfo, byte_range: ByteRange | None) -> RecordingBody:
        """Stream the recording described by `expected` (whole, or `byte_range`). Raises RecordingChanged
        when the stored object no longer matches `expected`."""

    def describe_and_open(self, stream_id: str) -> tuple[RecordingInfo, RecordingBody]:
        """Describe and stream the whole recording, in one storage request where the backend can."""
        for _attempt in range(2):
            info = self.describe(stream_id)
            try:
                return info, self.open(stream_id, info, None)
            except RecordingChanged:
                continue
        raise RecordingChanged()

    def reserve(self, stream_id: str, owner: str | None) -> None:  # noqa: B027 - optional, nothing by default
        """Called before LiveKit is asked to record into `stream_id`. A store whose uploads cannot carry
        the owner (GCS) records it beside the object here; StreamIdTaken when the id is already taken."""

    def release(self, stream_id: str) -> None:  # noqa: B027 - optional, nothing by default
        """Undo `reserve` when LiveKit did not start the recording, so the id can be used again."""

    def close(self) -> None:  # noqa: B027 - optional, nothing by default
        """Release connections held by the store."""


def owner_from_metadata(metadata: dict | None) -> str | None:
    """The owner recorded in an object's user metadata (`auth_id`), trimmed; blank means no owner."""
    if not isinstance(metadata, dict):
        return None
    for key in ("auth_id", "auth-id"):  # some S3 front ends turn "_" into "-" in x-amz-meta-* names
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
