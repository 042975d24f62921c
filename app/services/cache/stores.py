"""The blob store the settings name: the local directory (CACHE_BACKEND=file), or S3-compatible object
storage with a local copy (CACHE_BACKEND=s3)."""

from __future__ import annotations

from app.services.cache.blobs import BlobStore
from app.services.cache.files import DirectoryStore
from app.settings import CacheSettings


def blob_store(settings: CacheSettings) -> BlobStore:
    if settings.backend == "s3":
        from app.services.cache.s3 import S3Store  # boto3 is imported only by hosts that use it

        return S3Store(settings)
    return DirectoryStore(settings.path)
