"""Recordings in a local directory, for single-machine deployments and the quickstart.

Layout, as in the object store: `{RECORDING_PATH}/{prefix}/{stream_id}/audio.ogg`. The owner of a
recording, when it has one, is kept beside it in `audio.ogg.metadata.json` (`{"auth_id": "acme"}`),
the file counterpart of the object's S3 user metadata.
"""

from __future__ import annotations

import json
import logging
import os
import stat as stat_module
from datetime import UTC, datetime
from pathlib import Path

from app.services.recordings.errors import RecordingChanged, RecordingNotFound, StorageUnavailable
from app.services.recordings.store import (
    CHUNK_BYTES,
    OWNER_SUFFIX,
    ByteRange,
    RecordingBody,
    RecordingInfo,
    RecordingStore,
    object_key,
    owner_from_metadata,
)

log = logging.getLogger("app.recordings.file")

_MAX_METADATA_BYTES = 64 * 1024


class FileRecordingStore(RecordingStore):
    def __init__(self, root: Path, prefix: str = ""):
        self._root = Path(root)
        self._prefix = prefix
        try:
            self._root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("cannot create the recording directory %s: %s", self._root, exc.strerror)

    def path_of(self, stream_id: str) -> Path:
        return self._root / object_key(self._prefix, stream_id)

    def describe(self, stream_id: str) -> RecordingInfo:
        path = self._checked_path(stream_id)
        try:
            stat = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise RecordingNotFound(f"Recording not found: {stream_id}") from None
        except OSError as exc:
            raise self._unavailable(exc) from None
        if not _is_regular(stat):
            raise RecordingNotFound(f"Recording not found: {stream_id}")
        return _info(stat, owner=self._owner(path))

    def open(self, stream_id: str, expected: RecordingInfo, byte_range: ByteRange | None) -> RecordingBody:
        path = self._checked_path(stream_id)
        try:
            file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the body
        except (FileNotFoundError, NotADirectoryError):
            raise RecordingChanged() from None
        except OSError as exc:
            raise self._unavailable(exc) from None
        stat = os.fstat(file.fileno())
        if not _is_regular(stat) or _etag(stat) != expected.etag:
            file.close()
            raise RecordingChanged()
        start, length = (byte_range.start, byte_range.length) if byte_range else (0, stat.st_size)
        file.seek(start)
        return _FileBody(file, length)

    def _checked_path(self, stream_id: str) -> Path:
        if not self._root.is_dir():
            log.warning("the recording directory %s is missing or not a directory", self._root)
            raise StorageUnavailable()
        path = self.path_of(stream_id)
        # Stream ids are validated before they get here; this keeps a symlink planted inside the
        # directory from serving a file outside it.
        real_root = os.path.realpath(self._root)
        if os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
            raise RecordingNotFound(f"Recording not found: {stream_id}")
        return path

    def _owner(self, path: Path) -> str | None:
        sidecar = path.with_name(path.name + OWNER_SUFFIX)
        try:
            with open(sidecar, "rb") as file:
                raw = file.read(_MAX_METADATA_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._unavailable(exc) from None
        try:
            metadata = json.loads(raw) if len(raw) <= _MAX_METADATA_BYTES else None
        except ValueError:
            metadata = None
        if not isinstance(metadata, dict):
            # Fail closed: a recording whose owner cannot be read is served to nobody rather than to everybody.
            log.warning("unreadable recording metadata %s", sidecar)
            raise StorageUnavailable("Recording metadata is unreadable")
        return owner_from_metadata(metadata)

    def _unavailable(self, exc: OSError) -> StorageUnavailable:
        log.warning("recording storage error in %s: %s", self._root, exc.strerror or type(exc).__name__)
        return StorageUnavailable()


class _FileBody(RecordingBody):
    def __init__(self, file, length: int):
        self._file = file
        self._remaining = length

    def __iter__(self):
        try:
            while self._remaining > 0:
                chunk = self._file.read(min(CHUNK_BYTES, self._remaining))
                if not chunk:  # truncated under us: cut the connection rather than pad
                    raise OSError("recording file shrank while being read")
                self._remaining -= len(chunk)
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self._file.close()


def _is_regular(stat: os.stat_result) -> bool:
    return stat_module.S_ISREG(stat.st_mode)


def _etag(stat: os.stat_result) -> str:
    return f'"{stat.st_ino:x}-{stat.st_size:x}-{stat.st_mtime_ns:x}"'


def _info(stat: os.stat_result, owner: str | None) -> RecordingInfo:
    modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC).replace(microsecond=0)
    return RecordingInfo(size=stat.st_size, etag=_etag(stat), last_modified=modified, owner=owner)
