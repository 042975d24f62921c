"""The recording download: stream id checks, tenant scoping, then the store."""

from __future__ import annotations

from app.services.recordings.download import Download, DownloadRequest, plan_download
from app.services.recordings.errors import (
    RecordingChanged,
    RecordingNotFound,
    StorageNotConfigured,
    StorageUnavailable,
)
from app.services.recordings.store import RecordingInfo, RecordingStore
from app.services.recordings.stream_id import validate_stream_id
from app.settings import RecordingSettings


def build_store(settings: RecordingSettings) -> RecordingStore | None:
    if settings.backend == "s3":
        from app.services.recordings.s3_store import S3RecordingStore

        return S3RecordingStore(settings)
    if settings.backend == "gcs":
        from app.services.recordings.gcs_store import GcsRecordingStore

        return GcsRecordingStore(settings)
    if settings.backend == "file" and settings.path is not None:
        from app.services.recordings.file_store import FileRecordingStore

        return FileRecordingStore(settings.path, settings.prefix)
    return None


class Recordings:
    """Finds and streams recordings. One per app; safe to share between threads."""

    def __init__(self, store: RecordingStore | None):
        self.store = store

    @classmethod
    def from_settings(cls, settings: RecordingSettings) -> Recordings:
        return cls(build_store(settings))

    def download(self, stream_id: str, *, tenant: str | None, request: DownloadRequest = DownloadRequest()) -> Download:
        """Plan and open the download of `stream_id` for `tenant` (None: auth is off, no scoping).

        The caller must close `Download.body` (the web layer hands it to the WSGI server, which does)."""
        validate_stream_id(stream_id)
        store = self._configured_store()
        if request.is_plain_get:
            return self._plain_download(store, stream_id, tenant)
        # An object replaced between HEAD and GET (a re-upload) is described again once.
        for _attempt in range(2):
            info = self._describe(store, stream_id, tenant)
            status, byte_range = plan_download(info, request)
            if status == 304 or request.method == "HEAD":
                return Download(status, info, byte_range)
            try:
                return Download(status, info, byte_range, store.open(stream_id, info, byte_range))
            except RecordingChanged:
                continue
        raise StorageUnavailable("The recording changed while being read; try again")

    def exists(self, stream_id: str) -> bool:
        """Whether a recording is stored under `stream_id`, whoever owns it."""
        validate_stream_id(stream_id)
        try:
            self._configured_store().describe(stream_id)
        except RecordingNotFound:
            return False
        return True

    def reserve(self, stream_id: str, owner: str | None) -> None:
        """Take `stream_id` for a recording about to be made, owned by `owner` (see RecordingStore.reserve)."""
        self._configured_store().reserve(validate_stream_id(stream_id), owner)

    def release(self, stream_id: str) -> None:
        self._configured_store().release(validate_stream_id(stream_id))

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def _configured_store(self) -> RecordingStore:
        if self.store is None:
            raise StorageNotConfigured()
        return self.store

    @staticmethod
    def _plain_download(store: RecordingStore, stream_id: str, tenant: str | None) -> Download:
        try:
            info, body = store.describe_and_open(stream_id)
        except RecordingChanged:
            raise StorageUnavailable("The recording changed while being read; try again") from None
        if not _visible_to(info, tenant):
            body.close()
            raise RecordingNotFound(f"Recording not found: {stream_id}")
        return Download(200, info, None, body)

    @staticmethod
    def _describe(store: RecordingStore, stream_id: str, tenant: str | None) -> RecordingInfo:
        info = store.describe(stream_id)
        if not _visible_to(info, tenant):
            raise RecordingNotFound(f"Recording not found: {stream_id}")
        return info


def _visible_to(info: RecordingInfo, tenant: str | None) -> bool:
    # Another tenant's recording is answered exactly like a missing one: its existence is not disclosed.
    return tenant is None or info.owner is None or info.owner == tenant
