"""Audio files of the synthesis cache: sharded directories, atomic writes."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

TEMP_SUFFIX = ".tmp"
FileSignature = tuple[int, int, int]  # inode, modification time (ns), size


class AudioFiles:
    def __init__(self, root: Path):
        self.root = root

    def path(self, key: str, extension: str) -> Path:
        # Two levels of 256 directories keep every directory small even with millions of entries.
        return self.root / key[:2] / key[2:4] / f"{key}.{extension}"

    def read(self, key: str, extension: str) -> tuple[bytes, FileSignature] | None:
        """The file's bytes and the signature of exactly the file they were read from."""
        try:
            with open(self.path(key, extension), "rb") as handle:
                return handle.read(), file_signature(os.fstat(handle.fileno()))
        except FileNotFoundError:
            return None

    @staticmethod
    def signature(path: str) -> FileSignature | None:
        """Changes whenever the file is replaced (a rename gives a new inode) or rewritten in place."""
        try:
            return file_signature(os.stat(path))
        except FileNotFoundError:
            return None

    def write(self, key: str, extension: str, data: bytes) -> Path:
        """Temp file, fsync, rename, fsync of the directory: a crash leaves the old file or the whole new
        one under the final name, never a partial file that could be served."""
        final = self.path(key, extension)
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.parent / f".{final.name}.{uuid.uuid4().hex}{TEMP_SUFFIX}"
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_directory(final.parent)
        return final

    def delete(self, key: str, extension: str) -> None:
        self.path(key, extension).unlink(missing_ok=True)

    def audio_files(self) -> Iterator[Path]:
        """Every finished audio file (not temp files, not lock files)."""
        if not self.root.is_dir():
            return
        for shard in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]"):
            for path in shard.iterdir():
                if not path.name.startswith(".") and path.is_file():
                    yield path

    def remove_stale_temp_files(self, older_than_seconds: float) -> int:
        """Temp files left by a crash in the middle of a write."""
        if not self.root.is_dir():
            return 0
        return remove_older_than(
            self.root.glob(f"[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/.*{TEMP_SUFFIX}"), older_than_seconds
        )


def remove_older_than(paths, older_than_seconds: float) -> int:
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
