"""A real S3 server on 127.0.0.1 for tests: moto in server mode, spoken to over HTTP through boto3
exactly as production does, with a log of every request it received (to prove that some requests
never reach the storage)."""

from __future__ import annotations

import http.client
import threading
import uuid
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"


class _RequestLog:
    """WSGI middleware recording (method, path) of each request before moto answers it."""

    def __init__(self, app, entries: list[tuple[str, str]]):
        self.app = app
        self.entries = entries
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.entries.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
        return self.app(environ, start_response)


class S3Server:
    def __init__(self):
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.requests: list[tuple[str, str]] = []
        self.url = ""
        self._client = None

    def start(self) -> S3Server:
        self._moto.start()
        werkzeug_server = self._moto._server  # the server object moto serves from; its app is looked up per request
        werkzeug_server.app = _RequestLog(werkzeug_server.app, self.requests)
        host, port = self._moto.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._moto.stop()

    @property
    def client(self):
        if self._client is None:
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self.url,
                region_name=REGION,
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
                config=Config(s3={"addressing_style": "path"}),
            )
        return self._client

    def new_bucket(self) -> str:
        name = f"recordings-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        return name

    def put(self, bucket: str, key: str, data: bytes, owner: str | None = None) -> None:
        metadata = {"auth_id": owner} if owner else {}
        self.client.put_object(Bucket=bucket, Key=key, Body=data, ContentType="audio/ogg", Metadata=metadata)

    def requests_to(self, bucket: str) -> list[tuple[str, str]]:
        return [entry for entry in list(self.requests) if entry[1].startswith(f"/{bucket}/")]

    def env(self, bucket: str, endpoint: str | None = None) -> dict[str, str]:
        """The settings that point the app at `bucket` on this server."""
        return {
            "RECORDING_BACKEND": "s3",
            "RECORDING_S3_ENDPOINT": endpoint or self.url,
            "RECORDING_S3_BUCKET": bucket,
            "RECORDING_S3_REGION": REGION,
            "RECORDING_S3_ACCESS_KEY": ACCESS_KEY,
            "RECORDING_S3_SECRET_KEY": SECRET_KEY,
            "RECORDING_S3_FORCE_PATH_STYLE": "true",
        }

    def cache_env(self, bucket: str, endpoint: str | None = None, prefix: str = "cache") -> dict[str, str]:
        """The settings that put the synthesis cache's blobs in `bucket` on this server."""
        return {
            "CACHE_BACKEND": "s3",
            "CACHE_S3_ENDPOINT": endpoint or self.url,
            "CACHE_S3_BUCKET": bucket,
            "CACHE_S3_PREFIX": prefix,
            "CACHE_S3_REGION": REGION,
            "CACHE_S3_ACCESS_KEY": ACCESS_KEY,
            "CACHE_S3_SECRET_KEY": SECRET_KEY,
            "CACHE_S3_FORCE_PATH_STYLE": "true",
        }

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))

    def get(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()


class GatedS3Proxy:
    """A pass-through in front of an S3 server (WSGI, to run in a FakeServer) that can hold the next object
    PUT, to kill its sender in the middle of the write: `hold("before")` keeps it from the store (no object
    is written), `hold("after")` lets the store write it and keeps back the answer (an object whose writer
    never learns it was written). `arrived` is set when a held PUT is in; `release()` lets it go."""

    _HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "expect"}

    def __init__(self, target_url: str):
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.arrived = threading.Event()
        self._released = threading.Event()
        self._mode: str | None = None
        self._lock = threading.Lock()

    def hold(self, mode: str) -> None:
        assert mode in ("before", "after")
        with self._lock:
            self._mode = mode
            self.arrived.clear()
            self._released.clear()

    def release(self) -> None:
        with self._lock:
            self._mode = None
        self._released.set()

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        with self._lock:
            mode = self._mode if method == "PUT" and path.strip("/").count("/") >= 1 else None
            if mode is not None:
                self._mode = None  # only the next object PUT is held
        if mode == "before":
            self.arrived.set()
            self._released.wait(timeout=60)
            start_response("503 Slow Down", [("Content-Type", "application/xml"), ("Content-Length", "0")])
            return [b""]
        status, headers, answer = self._forward(environ, method, body)
        if mode == "after":
            self.arrived.set()
            self._released.wait(timeout=60)
        start_response(status, headers)
        return [answer]

    def _forward(self, environ, method: str, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        path = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING") and "?" not in path:
            path += "?" + environ["QUERY_STRING"]
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in self._HOP_BY_HOP
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").title()] = environ[key]
        connection = http.client.HTTPConnection(*self.target, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in self._HOP_BY_HOP]
            return f"{response.status} {response.reason}", kept, answer
        finally:
            connection.close()


def refusing_s3_app(environ, start_response):
    """An S3 endpoint that refuses every request, as a store with revoked credentials does."""
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        b"<Message>Access Denied</Message><RequestId>0</RequestId></Error>"
    )
    start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]


@pytest.fixture(scope="session")
def s3_server():
    server = S3Server().start()
    yield server
    server.stop()
