"""The synthesis cache's storage for every app a test builds: the local directory (the default), or with
TEST_CACHE_BACKEND=s3 a bucket on the suite's moto server, each test under its own key prefix (so one
test's blobs are never another's orphans), in-process apps and gunicorn subprocesses alike."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

BACKENDS = ("file", "s3")
_bucket: dict[str, str] = {}  # "url", "bucket": set once per session by the conftest when the backend is s3


def chosen() -> str:
    backend = os.environ.get("TEST_CACHE_BACKEND", "").strip().lower() or "file"
    if backend not in BACKENDS:
        raise ValueError(f"TEST_CACHE_BACKEND must be one of {', '.join(BACKENDS)}, got '{backend}'")
    return backend


def use_bucket(url: str, bucket: str) -> None:
    _bucket.update(url=url, bucket=bucket)


def cache_env(tmp_path: Path) -> dict[str, str]:
    """The CACHE_* variables of a test's apps ({} for the local directory)."""
    if chosen() != "s3":
        return {}
    assert _bucket, "the conftest starts moto before any app is built"
    from tests.fakes.s3 import ACCESS_KEY, REGION, SECRET_KEY

    prefix = "t-" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:16]
    return {
        "CACHE_BACKEND": "s3",
        "CACHE_S3_ENDPOINT": _bucket["url"],
        "CACHE_S3_BUCKET": _bucket["bucket"],
        "CACHE_S3_PREFIX": f"{prefix}/cache",
        "CACHE_S3_REGION": REGION,
        "CACHE_S3_ACCESS_KEY": ACCESS_KEY,
        "CACHE_S3_SECRET_KEY": SECRET_KEY,
        "CACHE_S3_FORCE_PATH_STYLE": "true",
    }
