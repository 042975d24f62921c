"""The blob store interface: where the cache's bytes live, under names the cache chooses.

Small enough for object storage (S3 PUT is atomic, a GET is a stream): put a finished temp file or bytes
atomically under a name, open a blob for reading, stat, delete, and list the names with their modification
times (prune removes blobs without an index row once they are older than a grace period). The index is
written after the blob and removed before it, so a row always names a blob that was completely written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol


class BlobStoreUnavailable(OSError):
    """The store could not answer (unreachable, refused, a transfer cut short): unlike a missing blob, this
    says nothing about the blob, so its index row stays. An OSError, as a failed local write is."""


@dataclass(frozen=True)
class BlobStat:
    size: int
    modified: float  # unix seconds


class BlobStore(Protocol):
    def temp_path(self, key: str) -> Path:
        """A fresh local path to write a blob's bytes to before `put_file` (on the store's own filesystem
        where renaming is how it publishes); leftovers of a crash are removed by `remove_stale_temp_files`."""
        ...

    def put_file(self, name: str, temp: Path) -> None:
        """Publish a finished, fsynced temp file as `name`, atomically: readers see the old blob or the
        whole new one. The temp file is consumed (gone afterwards, whatever happens)."""
        ...

    def put_bytes(self, name: str, data: bytes) -> None:
        """Publish `data` as `name`, atomically and durably."""
        ...

    def open(self, name: str) -> BinaryIO | None:
        """The blob for reading (the caller closes it), or None when there is none (the only answer that
        lets the caller drop the blob's row; a store that cannot tell raises BlobStoreUnavailable). A store
        with a local copy hands out a real file, so a hit can be sent with sendfile."""
        ...

    def discard_local_copy(self, name: str) -> bool:
        """Forget this host's copy of a blob that failed its checksum; True when the store keeps the blob
        elsewhere too (the next `open` fetches it again), False when the local file was the blob itself."""
        ...

    def local_path(self, name: str) -> str | None:
        """The local file that holds (or would hold) the blob, for sendfile and X-Accel-Redirect; None
        when the store has no local copy of it."""
        ...

    def stat(self, name: str) -> BlobStat | None:
        """Size and modification time of the blob in the store, or None when there is none."""
        ...

    def delete(self, name: str) -> None:
        """Remove the blob; no error when it is already gone."""
        ...

    def names(self) -> Iterator[tuple[str, float]]:
        """Every finished blob (never a temp file) with its modification time in unix seconds."""
        ...

    def remove_stale_temp_files(self, older_than_seconds: float) -> int:
        """Temp files left by a crash in the middle of a write; returns how many went."""
        ...

    def close(self) -> None:
        """Release the store's connections (none for a directory)."""
        ...
