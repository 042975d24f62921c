"""The local directory blob store: sharded directories under CACHE_PATH, atomic writes."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from app.services.cache.blobs import BlobStat

TEMP_SUFFIX = ".tmp"
FileSignature = tuple[int, int, int]  # inode, modification time (ns), size


class DirectoryStore:
    """Blobs as files: `<root>/<name[:2]>/<name[2:4]>/<name>`."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, name: str) -> Path:
        # Two levels of 256 directories keep every directory small even with millions of entries.
        return self.root / name[:2] / name[2:4] / name

    def local_path(self, name: str) -> str:
        return str(self.path(name))

    def temp_path(self, key: str) -> Path:
        # Beside the final file: renaming it into place is then atomic (one filesystem).
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        return final.parent / f".{key}.{uuid.uuid4().hex}{TEMP_SUFFIX}"

    def put_file(self, name: str, temp: Path) -> None:
        """Rename, then fsync the directory: a crash leaves the old file or the whole new one under the
        final name, never a partial file that could be served."""
        final = self.path(name)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_directory(final.parent)

    def put_bytes(self, name: str, data: bytes) -> None:
        """Temp file, fsync, rename, fsync of the directory."""
        temp = self.temp_path(name)
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self.put_file(name, temp)

    def open(self, name: str) -> BinaryIO | None:
        try:
            return open(self.path(name), "rb")
        except FileNotFoundError:
            return None

    def discard_local_copy(self, name: str) -> bool:
        return False  # the file is the blob: the caller drops the entry

    def stat(self, name: str) -> BlobStat | None:
        try:
            stat = os.stat(self.path(name))
        except FileNotFoundError:
            return None
        return BlobStat(stat.st_size, stat.st_mtime)

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def names(self) -> Iterator[tuple[str, float]]:
        """Every finished audio file (not temp files, not lock files)."""
        if not self.root.is_dir():
            return
        for shard in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]"):
            for path in shard.iterdir():
                if path.name.startswith("."):
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                if path.is_file():
                    yield path.name, stat.st_mtime

    def remove_stale_temp_files(self, older_than_seconds: float) -> int:
        if not self.root.is_dir():
            return 0
        return remove_older_than(
            self.root.glob(f"[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/.*{TEMP_SUFFIX}"), older_than_seconds
        )

    def close(self) -> None:
        pass


def signature(path: str) -> FileSignature | None:
    """Changes whenever the file is replaced (a rename gives a new inode) or rewritten in place."""
    try:
        return file_signature(os.stat(path))
    except FileNotFoundError:
        return None


def remove_older_than(paths: Iterable[Path], older_than_seconds: float) -> int:
    """Delete the files not modified for `older_than_seconds`; returns how many went."""
    removed, limit = 0, time.time() - older_than_seconds
    for path in paths:
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def file_signature(stat: os.stat_result) -> FileSignature:
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
