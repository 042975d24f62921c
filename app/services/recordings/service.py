"""The recording download: stream id checks, tenant scoping, then the store."""
from __future__ import annotations

from app.services.recordings.download import Download, DownloadRequest, plan_download
from app.services.recordings.errors import (
    RecordingChanged, RecordingNotFound, StorageNotConfigured, StorageUnavailable,
)
from app.services.recordings.store import RecordingInfo, RecordingStore
from app.services.recordings.stream_id import validate_stream_id
from app.settings import RecordingSettings


def build_store(settings: RecordingSettings) -> RecordingStore | None:
    if settings.backend == "s3":
        from app.services.recordings.s3_store import S3RecordingStore

        return S3RecordingStore(settings)
    if settings.backend == "file" and settings.path is not None:
        from app.services.recordings.file_store import FileRecordingStore

        return FileRecordingStore(settings.path, settings.prefix)
    return None


class Recordings:
    """Finds and streams recordings. One per app; safe to share between threads."""

    def __init__(self, store: RecordingStore | None):
        self.store = store

    @classmethod
    def from_settings(cls, settings: RecordingSettings) -> "Recordings":
        return cls(build_store(settings))

    def download(self, stream_id: str, *, tenant: str | None, request: DownloadRequest = DownloadRequest()) -> Download:
        """Plan and open the download of `stream_id` for `tenant` (None: auth is off, no scoping).

        The caller must close `Download.body` (the web layer hands it to the WSGI server, which does)."""
        validate_stream_id(stream_id)
        store = self._configured_store()
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

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def _configured_store(self) -> RecordingStore:
        if self.store is None:
            raise StorageNotConfigured()
        return self.store

    @staticmethod
    def _describe(store: RecordingStore, stream_id: str, tenant: str | None) -> RecordingInfo:
        info = store.describe(stream_id)
        # Another tenant's recording is answered exactly like a missing one: its existence is not disclosed.
        if tenant is not None and info.owner is not None and info.owner != tenant:
            raise RecordingNotFound(f"Recording not found: {stream_id}")
        return info
