"""The S3-compatible blob store (AWS S3, MinIO, Ceph, R2, GCS's S3 interface), through boto3: one bucket
shared by every host, objects `<CACHE_S3_PREFIX>/<name>`, with this host's bounded copy under CACHE_PATH.

- A PUT is atomic (readers see no object or the whole one), so a blob needs no temp object; it is sent
  with its Content-MD5, and the store refuses a body damaged on the way.
- `open` hands out the local copy (a real file: hits are sent with sendfile); without one it downloads the
  object into a temp file beside the copy, renames it into place and hands that out.
- Only a 404 of the object itself (NoSuchKey) means "no blob": the caller may then drop the row. Anything
  else (unreachable, refused, a missing bucket, a download cut short) raises BlobStoreUnavailable, which
  leaves the row alone.
- `names` lists only what lies directly under the prefix and looks like a blob, so prune and clear never
  touch anything else a shared bucket holds.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from app.services.cache.blobs import BlobStat, BlobStoreUnavailable
from app.services.cache.local_copies import LocalCopies
from app.services.s3_client import s3_client
from app.settings import CacheSettings

log = logging.getLogger("app.cache")

# A store that is down must turn a hit into a miss within seconds, not hang a worker; the read timeout
# bounds a stalled transfer between two chunks, not a whole download.
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 2
# After S3 could not be reached, requests do not ask it again for a moment: during an outage a hit becomes a
# miss at once instead of after every request's own connect timeouts.
PAUSE_AFTER_UNREACHABLE_SECONDS = 5.0
_CHUNK = 1 << 20
_BLOB_NAME = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9]+")  # `blob_name`: the key and the format's extension
_NO_SUCH_KEY = {"NoSuchKey", "404", "NotFound"}


class S3Store:
    def __init__(self, settings: CacheSettings):
        self.settings = settings
        self.bucket = settings.s3_bucket or ""
        self.prefix = settings.s3_prefix
        self.local = LocalCopies(settings.path, settings.local_max_bytes)
        self._client: Any = None
        self._client_pid = 0
        self._lock = threading.Lock()
        self._paused_until = 0.0  # time.monotonic()

    @property
    def client(self) -> Any:
        """One boto3 client per process, built on first use (after gunicorn forks: a client's connections
        must not be shared by two processes); thread-safe once built, but building one is not."""
        if self._client is None or self._client_pid != os.getpid():
            with self._lock:
                if self._client is None or self._client_pid != os.getpid():
                    self._client, self._client_pid = (
                        s3_client(
                            self.settings,
                            connect_timeout=CONNECT_TIMEOUT_SECONDS,
                            read_timeout=READ_TIMEOUT_SECONDS,
                            max_attempts=MAX_ATTEMPTS,
                        ),
                        os.getpid(),
                    )
        return self._client

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def _call(self, operation: str, **params: Any) -> Any:
        """One S3 request on an object of the bucket; raises botocore's errors, or BlobStoreUnavailable while
        paused after S3 could not be reached."""
        if time.monotonic() < self._paused_until:
            raise BlobStoreUnavailable("S3 was unreachable a moment ago")
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **params)
        except BotoCoreError:  # no answer at all (a ClientError is an answer)
            self._paused_until = time.monotonic() + PAUSE_AFTER_UNREACHABLE_SECONDS
            raise

    # --- writing -------------------------------------------------------------------------------------

    def temp_path(self, key: str) -> Path:
        return self.local.temp_path(key)

    def put_file(self, name: str, temp: Path) -> None:
        """Upload the finished temp file, then keep it as this host's copy."""
        try:
            with open(temp, "rb") as handle:
                digest = _md5_of(handle)
                handle.seek(0)
                self._put(name, handle, digest)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        try:
            self.local.adopt(name, temp)
        except OSError:
            log.warning("could not keep a local copy of cache blob %s", name, exc_info=True)

    def put_bytes(self, name: str, data: bytes) -> None:
        self._put(name, data, hashlib.md5(data, usedforsecurity=False).digest())
        try:
            self.local.write(name, data)
        except OSError:  # the blob is in the bucket: its row may be written, a hit fetches the copy again
            log.warning("could not keep a local copy of cache blob %s", name, exc_info=True)

    def _put(self, name: str, body: bytes | BinaryIO, md5: bytes) -> None:
        try:
            self._call(
                "put_object",
                Key=self.key(name),
                Body=body,
                ContentMD5=base64.b64encode(md5).decode(),
                ContentType="application/octet-stream",
            )
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable("PUT", exc) from None

    # --- reading -------------------------------------------------------------------------------------

    def open(self, name: str) -> BinaryIO | None:
        try:
            handle = self.local.open(name)
        except OSError:  # an unusable local directory holds no copy (the download then says why)
            handle = None
        return handle if handle is not None else self._download(name)

    def _download(self, name: str) -> BinaryIO | None:
        try:
            response = self._call("get_object", Key=self.key(name))
        except (BotoCoreError, ClientError) as exc:
            if _no_such_key(exc):
                return None
            raise _unavailable("GET", exc) from None
        body = response["Body"]
        try:
            temp = self.local.temp_path(name)
            handle = open(temp, "w+b")
        except Exception as exc:  # no room for a copy: the row stays, the request is a miss
            body.close()
            raise _unavailable("GET", exc) from None
        except BaseException:
            body.close()
            raise
        try:
            with body:
                for chunk in body.iter_chunks(_CHUNK):
                    handle.write(chunk)
            handle.flush()
            size = handle.tell()
            os.replace(temp, self.local.files.path(name))  # the open descriptor now reads the copy
        except BaseException as exc:
            handle.close()
            temp.unlink(missing_ok=True)
            if isinstance(exc, Exception):  # a transfer cut short, or no room for the copy: the row stays
                raise _unavailable("GET", exc) from None
            raise
        self.local.added(size)
        handle.seek(0)
        return handle

    def local_path(self, name: str) -> str:
        return self.local.path(name)

    def discard_local_copy(self, name: str) -> bool:
        self.local.discard(name)
        return True

    def stat(self, name: str) -> BlobStat | None:
        try:
            head = self._call("head_object", Key=self.key(name))
        except (BotoCoreError, ClientError) as exc:
            if _no_such_key(exc):
                return None
            raise _unavailable("HEAD", exc) from None
        return BlobStat(int(head["ContentLength"]), head["LastModified"].timestamp())

    # --- maintenance ---------------------------------------------------------------------------------

    def delete(self, name: str) -> None:
        """Remove the object and this host's copy (other hosts' copies fail their index check later)."""
        self.local.discard(name)
        try:
            self._call("delete_object", Key=self.key(name))
        except (BotoCoreError, ClientError) as exc:
            if not _no_such_key(exc):
                raise _unavailable("DELETE", exc) from None

    def names(self) -> Iterator[tuple[str, float]]:
        start = f"{self.prefix}/"
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
                for item in page.get("Contents", ()):
                    name = item["Key"][len(start) :]
                    if _BLOB_NAME.fullmatch(name):
                        yield name, item["LastModified"].timestamp()
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable("LIST", exc) from None

    def remove_stale_temp_files(self, older_than_seconds: float) -> int:
        """Downloads and writes cut short on this host (S3 itself keeps no partial object)."""
        return self.local.files.remove_stale_temp_files(older_than_seconds)

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None and self._client_pid == os.getpid():
            client.close()


def _md5_of(handle: BinaryIO) -> bytes:
    digest = hashlib.md5(usedforsecurity=False)
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.digest()


def _no_such_key(exc: Exception) -> bool:
    """The object itself is absent (a missing bucket is a configuration problem, not a missing blob)."""
    if not isinstance(exc, ClientError):
        return False
    code = str(exc.response.get("Error", {}).get("Code") or "")
    return code in _NO_SUCH_KEY


def _unavailable(operation: str, exc: BaseException) -> BlobStoreUnavailable:
    # the type and S3's error code only: botocore's messages can carry the bucket's URL, never a secret,
    # but a one-line cause is what an operator needs
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        cause = f"HTTP {status} {exc.response.get('Error', {}).get('Code') or ''}".strip()
    else:
        cause = type(exc).__name__
    return BlobStoreUnavailable(f"S3 {operation} failed: {cause}")
