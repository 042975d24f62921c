"""One boto3 S3 client for an S3-compatible store (AWS, MinIO, Ceph, R2, GCS's S3 interface), configured the
same way for the recordings and the synthesis cache."""

from __future__ import annotations

from typing import Any, Protocol


class S3Location(Protocol):
    """Where the store is and how to sign in (RecordingSettings and CacheSettings have these)."""

    @property
    def s3_region(self) -> str | None: ...
    @property
    def s3_endpoint(self) -> str | None: ...
    @property
    def s3_access_key(self) -> str | None: ...
    @property
    def s3_secret_key(self) -> str | None: ...
    @property
    def s3_force_path_style(self) -> bool: ...


def s3_client(settings: S3Location, *, connect_timeout: float, read_timeout: float, max_attempts: int) -> Any:
    import boto3
    from botocore.config import Config

    # S3-compatible stores (MinIO, Ceph, R2...) address buckets by path; AWS itself prefers virtual hosts.
    addressing = "path" if settings.s3_force_path_style or settings.s3_endpoint else "auto"
    config = Config(
        s3={"addressing_style": addressing},
        signature_version="s3v4",
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        # botocore >= 1.36 computes and validates CRC checksums of whole objects by default: CPU spent on every
        # transfer (the cache checks each blob's sha256 anyway), and some non-AWS stores answer checksum headers
        # they cannot honour.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        max_pool_connections=32,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        config=config,
    )
