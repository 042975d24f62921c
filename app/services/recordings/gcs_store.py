"""Recordings in Google Cloud Storage, through google-cloud-storage and google-auth.

The object is described with the library (`Bucket.get_blob`) and its bytes are streamed from the JSON
API's media URL over the same authorized session: the library's own downloads write into a file
object and return only once the whole object has arrived, which would keep the client waiting.

LiveKit's GCS upload carries no object metadata, so the owner of a recording we start is written beside
it first (`audio.ogg.metadata.json`, created only if absent: the stream id is taken atomically), and
read from there when the object's own metadata names no owner."""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import quote

import requests

from app.services.recordings.errors import RecordingChanged, RecordingNotFound, StorageUnavailable, StreamIdTaken
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
from app.settings import RecordingSettings

log = logging.getLogger("app.recordings.gcs")

GOOGLE_STORAGE_URL = "https://storage.googleapis.com"
READ_ONLY_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
READ_WRITE_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"  # only to write an owner
_MAX_OWNER_BYTES = 64 * 1024
# As for S3: a store that is down answers 503 within seconds. The library's default retry keeps
# trying for two minutes; ours gives up after RETRY_SECONDS.
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 20
RETRY_SECONDS = 3.0


class GcsRecordingStore(RecordingStore):
    def __init__(self, settings: RecordingSettings):
        self._settings = settings
        self._api_url = settings.gcs_endpoint or GOOGLE_STORAGE_URL
        self._connections: dict[str, tuple] = {}  # scope -> (authorized session, bucket handle)
        self._lock = threading.Lock()

    def _connect(self, scope: str = READ_ONLY_SCOPE):
        """The authorized session and bucket handle for `scope`, built on first use (once per store and worker)."""
        if scope not in self._connections:
            with self._lock:
                if scope not in self._connections:
                    self._connections[scope] = self._build(scope)
        return self._connections[scope]

    def _build(self, scope: str):
        from google.auth.credentials import AnonymousCredentials
        from google.auth.transport.requests import AuthorizedSession
        from google.cloud import storage
        from google.oauth2 import service_account

        settings = self._settings
        key = json.loads(settings.gcs_credentials_json or "{}")
        if settings.gcs_anonymous:
            credentials = AnonymousCredentials()
        else:
            credentials = service_account.Credentials.from_service_account_info(key, scopes=[scope])
        # One session for the library's metadata calls and our media reads: one token, one connection
        # pool, and a bounded token refresh (google-auth's default waits two minutes).
        session = AuthorizedSession(credentials, refresh_timeout=CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS)
        client = storage.Client(
            project=key.get("project_id") or "<none>",
            credentials=credentials,
            _http=session,
            client_options={"api_endpoint": settings.gcs_endpoint} if settings.gcs_endpoint else None,
        )
        return session, client.bucket(settings.gcs_bucket)

    def _key(self, stream_id: str) -> str:
        return object_key(self._settings.prefix, stream_id)

    def describe(self, stream_id: str) -> RecordingInfo:
        from google.cloud.storage.retry import DEFAULT_RETRY

        try:
            _session, bucket = self._connect()
            blob = bucket.get_blob(
                self._key(stream_id),
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
                retry=DEFAULT_RETRY.with_timeout(RETRY_SECONDS),
            )
        except Exception as exc:  # noqa: BLE001 - google-api-core, google-auth and requests errors alike
            raise _translate(exc, stream_id) from None
        if blob is None:
            raise RecordingNotFound(f"Recording not found: {stream_id}")
        return RecordingInfo(
            size=int(blob.size or 0),
            # The generation changes with every upload of the object and only then: a strong validator.
            etag=f'"{blob.generation}"',
            last_modified=blob.updated,
            owner=owner_from_metadata(blob.metadata) or self._recorded_owner(stream_id),
        )

    def reserve(self, stream_id: str, owner: str | None) -> None:
        from google.api_core.exceptions import PreconditionFailed
        from google.cloud.storage.retry import DEFAULT_RETRY

        try:
            _session, bucket = self._connect(READ_WRITE_SCOPE)
            # Written without an owner too: it still takes the stream id.
            bucket.blob(self._key(stream_id) + OWNER_SUFFIX).upload_from_string(
                json.dumps({"auth_id": owner} if owner else {}),
                content_type="application/json",
                if_generation_match=0,
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
                retry=DEFAULT_RETRY.with_timeout(RETRY_SECONDS),
            )
        except PreconditionFailed:
            raise StreamIdTaken(f"A recording with the stream_id '{stream_id}' already exists") from None
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, stream_id) from None

    def release(self, stream_id: str) -> None:
        from google.cloud.storage.retry import DEFAULT_RETRY

        try:
            _session, bucket = self._connect(READ_WRITE_SCOPE)
            bucket.blob(self._key(stream_id) + OWNER_SUFFIX).delete(
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS), retry=DEFAULT_RETRY.with_timeout(RETRY_SECONDS)
            )
        except Exception as exc:  # noqa: BLE001 - the id stays taken: a retry with another id works
            log.warning("could not free the stream id %s: %s", stream_id, type(exc).__name__)

    def _recorded_owner(self, stream_id: str) -> str | None:
        from google.api_core.exceptions import NotFound
        from google.cloud.storage.retry import DEFAULT_RETRY

        try:
            _session, bucket = self._connect()
            raw = bucket.blob(self._key(stream_id) + OWNER_SUFFIX).download_as_bytes(
                end=_MAX_OWNER_BYTES,
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
                retry=DEFAULT_RETRY.with_timeout(RETRY_SECONDS),
            )
        except NotFound:
            return None
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, stream_id) from None
        try:
            metadata = json.loads(raw)
        except ValueError:
            metadata = None
        if not isinstance(metadata, dict):
            # Fail closed, as the file store: a recording whose owner cannot be read is served to nobody.
            log.warning("unreadable recording owner for %s", self._key(stream_id))
            raise StorageUnavailable("Recording metadata is unreadable")
        return owner_from_metadata(metadata)

    def open(self, stream_id: str, expected: RecordingInfo, byte_range: ByteRange | None) -> RecordingBody:
        generation = expected.etag.strip('"')
        url = (
            f"{self._api_url}/download/storage/v1/b/{quote(self._settings.gcs_bucket or '', safe='')}"
            f"/o/{quote(self._key(stream_id), safe='')}?alt=media&generation={quote(generation, safe='')}"
        )
        headers = {"Range": f"bytes={byte_range.start}-{byte_range.end}"} if byte_range else {}
        try:
            session, _bucket = self._connect()
            response = session.get(
                url, headers=headers, stream=True, timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)
            )
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, stream_id) from None
        if response.status_code in (200, 206):
            return _GcsBody(response)
        response.close()
        if response.status_code in (404, 412):  # that generation is gone: the object was replaced or deleted
            raise RecordingChanged()
        log.warning("GCS refused a recording download: HTTP %s", response.status_code)
        raise StorageUnavailable("Failed to retrieve recording from storage")

    def close(self) -> None:
        for session, _bucket in self._connections.values():
            session.close()


class _GcsBody(RecordingBody):
    def __init__(self, response: requests.Response):
        self._response = response

    def __iter__(self):
        try:
            yield from self._response.iter_content(CHUNK_BYTES)
        except Exception as exc:
            log.warning("recording transfer from GCS failed mid-stream: %s", type(exc).__name__)
            raise
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()


def _translate(exc: Exception, stream_id: str) -> Exception:
    from google.api_core import exceptions as api_exceptions

    if isinstance(exc, api_exceptions.NotFound):  # no such bucket: as S3's NoSuchBucket
        return RecordingNotFound(f"Recording not found: {stream_id}")
    if isinstance(exc, api_exceptions.GoogleAPICallError):
        log.warning("GCS refused a recording request: HTTP %s %s", exc.code, type(exc).__name__)
        return StorageUnavailable("Failed to retrieve recording from storage")
    log.warning("GCS unreachable for a recording request: %s", type(exc).__name__)
    return StorageUnavailable("Recording storage is unavailable")
