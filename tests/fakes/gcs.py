"""A fake Google Cloud Storage: real HTTP on 127.0.0.1, speaking the JSON API as google-cloud-storage
and google-auth use it (checked against their source and the GCS JSON API reference).

- `POST /token`: the OAuth 2.0 JWT-bearer grant of a service account. The assertion must be signed
  with the test key (RS256), issued by its `client_email` and addressed to Google's token URI; the answer
  is an access token carrying the requested scopes.
- `GET /storage/v1/b/{bucket}`: the bucket resource (the library fetches it in the background).
- `GET /storage/v1/b/{bucket}/o/{object}`: the object resource (`generation`, `size`, `updated`,
  `metadata`...), or a JSON API error (`{"error": {"code", "message", "errors": [{"reason"}]}}`).
- `GET /download/storage/v1/b/{bucket}/o/{object}?alt=media[&generation=]`: the bytes, with `Range`,
  `x-goog-generation` and `x-goog-hash`; a generation that is no longer current is 404.
- `DELETE /storage/v1/b/{bucket}/o/{object}`: 204 (write scope).
- `POST /upload/storage/v1/b/{bucket}/o?uploadType=multipart|media[&ifGenerationMatch=]`: stores an
  object (write scope); `ifGenerationMatch=0` only when the name is free (412 otherwise).

Every API request needs a bearer token this server issued (401 otherwise) unless the server was
started with `anonymous=True`, as emulators behind STORAGE_EMULATOR_HOST are.

    gcs = GcsServer().start(); bucket = gcs.new_bucket(); gcs.put(bucket, "rooms/x/audio.ogg", b"OggS...")
    env = gcs.env(bucket)      # RECORDING_BACKEND=gcs, the bucket, a service-account key, this endpoint
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

import google_crc32c
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, request
from werkzeug.http import parse_range_header

from tests.fakes.server import FakeServer

CLIENT_EMAIL = "recordings@sayna-tests.iam.gserviceaccount.com"
# google-auth addresses every service-account assertion to Google's token endpoint, whatever the key's
# token_uri (google/oauth2/service_account.py), and Google checks exactly that audience.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
WRITE_SCOPES = {
    "https://www.googleapis.com/auth/devstorage.read_write",
    "https://www.googleapis.com/auth/devstorage.full_control",
    "https://www.googleapis.com/auth/cloud-platform",
}


@dataclass
class StoredObject:
    data: bytes
    generation: int
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))


class GcsServer:
    def __init__(self, *, anonymous: bool = False):
        self.anonymous = anonymous
        self.buckets: dict[str, dict[str, StoredObject]] = {}
        self.requests: list[tuple[str, str]] = []
        self.tokens: dict[str, set[str]] = {}  # access token -> its scopes
        self.downloads_in_flight = 0  # media responses being sent
        self.downloads_cut_short = 0  # media responses whose client closed the connection before the end
        self._generations = itertools.count(1_700_000_000_000_001)
        self._lock = threading.Lock()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.app = Flask("fake-gcs")
        self.app.add_url_rule("/token", "token", self._token, methods=["POST"])
        self.app.add_url_rule("/storage/v1/b/<bucket>", "bucket", self._bucket, methods=["GET"])
        self.app.add_url_rule("/storage/v1/b/<bucket>/o/<path:name>", "object", self._object, methods=["GET"])
        self.app.add_url_rule("/storage/v1/b/<bucket>/o/<path:name>", "delete", self._delete, methods=["DELETE"])
        self.app.add_url_rule("/download/storage/v1/b/<bucket>/o/<path:name>", "media", self._media, methods=["GET"])
        self.app.add_url_rule("/upload/storage/v1/b/<bucket>/o", "upload", self._upload, methods=["POST"])
        self._server = FakeServer(self.app)
        self.url = self._server.url

    def start(self) -> GcsServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    # --- test controls -------------------------------------------------------------------------

    def service_account_json(self) -> str:
        """A service-account key (as Google issues them) whose token URI is this server."""
        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "sayna-tests",
                "private_key_id": "0123456789abcdef",
                "private_key": pem,
                "client_email": CLIENT_EMAIL,
                "client_id": "1234567890",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": f"{self.url}/token",
            }
        )

    def env(self, bucket: str, endpoint: str | None = None) -> dict[str, str]:
        """The settings that point the app at `bucket` on this server."""
        return {
            "RECORDING_BACKEND": "gcs",
            "RECORDING_GCS_BUCKET": bucket,
            "RECORDING_GCS_CREDENTIALS_JSON": self.service_account_json(),
            "RECORDING_GCS_ENDPOINT": endpoint or self.url,
        }

    def new_bucket(self) -> str:
        name = f"recordings-{uuid.uuid4().hex[:12]}"
        with self._lock:
            self.buckets[name] = {}
        return name

    def put(
        self, bucket: str, key: str, data: bytes, owner: str | None = None, content_type: str = "audio/ogg"
    ) -> StoredObject:
        with self._lock:
            stored = StoredObject(data, next(self._generations), content_type, {"auth_id": owner} if owner else {})
            self.buckets[bucket][key] = stored
            return stored

    def get(self, bucket: str, key: str) -> StoredObject | None:
        return self.buckets.get(bucket, {}).get(key)

    def requests_to(self, bucket: str) -> list[tuple[str, str]]:
        return [entry for entry in list(self.requests) if f"/b/{bucket}/" in entry[1]]

    # --- OAuth 2.0 token endpoint (google-auth's service-account flow) --------------------------

    def _token(self):
        if request.form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return _oauth_error("unsupported_grant_type")
        try:
            claims = jwt.decode(
                request.form.get("assertion", ""),
                self._key.public_key(),
                algorithms=["RS256"],
                audience=GOOGLE_TOKEN_AUDIENCE,
                issuer=CLIENT_EMAIL,
                options={"require": ["exp", "iat"]},
            )
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        token = "ya29." + secrets.token_urlsafe(24)
        self.tokens[token] = set(str(claims.get("scope", "")).split())
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _authorized(self, *, write: bool = False) -> Response | None:
        self.requests.append((request.method, request.path))
        if self.anonymous:
            return None
        header = request.headers.get("Authorization", "")
        scopes = self.tokens.get(header[len("Bearer ") :]) if header.startswith("Bearer ") else None
        if scopes is None:
            return _api_error(401, "Anonymous caller does not have storage.objects.get access.", "required")
        if write and not scopes & WRITE_SCOPES:
            return _api_error(403, f"{CLIENT_EMAIL} does not have storage.objects.create access.", "forbidden")
        return None

    # --- JSON API ------------------------------------------------------------------------------

    def _find(self, bucket: str, name: str) -> StoredObject | Response:
        if bucket not in self.buckets:
            return _api_error(404, "The specified bucket does not exist.", "notFound")
        stored = self.buckets[bucket].get(name)
        if stored is None:
            return _api_error(404, f"No such object: {bucket}/{name}", "notFound")
        return stored

    def _bucket(self, bucket: str):
        """google-cloud-storage reads the bucket's project and location in the background, for tracing."""
        refused = self._authorized()
        if refused:
            return refused
        if bucket not in self.buckets:
            return _api_error(404, "The specified bucket does not exist.", "notFound")
        return {
            "kind": "storage#bucket",
            "id": bucket,
            "name": bucket,
            "projectNumber": "123456789012",
            "metageneration": "1",
            "location": "US",
            "storageClass": "STANDARD",
            "locationType": "multi-region",
            "timeCreated": "2026-01-01T00:00:00.000Z",
            "updated": "2026-01-01T00:00:00.000Z",
        }

    def _object(self, bucket: str, name: str):
        refused = self._authorized()
        if refused:
            return refused
        stored = self._find(bucket, name)
        if isinstance(stored, Response):
            return stored
        return self._resource(bucket, name, stored)

    def _delete(self, bucket: str, name: str):
        refused = self._authorized(write=True)
        if refused:
            return refused
        stored = self._find(bucket, name)
        if isinstance(stored, Response):
            return stored
        with self._lock:
            del self.buckets[bucket][name]
        return Response(status=204)

    def _media(self, bucket: str, name: str):
        refused = self._authorized()
        if refused:
            return refused
        if request.args.get("alt") != "media":
            return _api_error(400, "Invalid value for alt", "invalid")
        stored = self._find(bucket, name)
        if isinstance(stored, Response):
            return stored
        generation = request.args.get("generation")
        if generation is not None and generation != str(stored.generation):
            return _api_error(404, f"No such object: {bucket}/{name}#{generation}", "notFound")
        match = request.args.get("ifGenerationMatch")
        if match is not None and match != str(stored.generation):
            return _api_error(412, "At least one of the pre-conditions you specified did not hold.", "conditionNotMet")
        size = len(stored.data)
        headers = {
            "ETag": _etag(stored),
            "x-goog-generation": str(stored.generation),
            "x-goog-metageneration": "1",
            "x-goog-hash": f"crc32c={_crc32c(stored.data)},md5={_md5(stored.data)}",
            "x-goog-stored-content-length": str(size),
            "x-goog-stored-content-encoding": "identity",
            "Accept-Ranges": "bytes",
        }
        ranges = parse_range_header(request.headers.get("Range"))
        if ranges is not None and len(ranges.ranges) == 1:
            bounds = ranges.range_for_length(size)
            if bounds is None:
                return Response(
                    "Request range not satisfiable", status=416, headers={"Content-Range": f"bytes */{size}"}
                )
            start, stop = bounds
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
            return self._stream(stored.data[start:stop], 206, headers, stored.content_type)
        return self._stream(stored.data, 200, headers, stored.content_type)

    def _stream(self, data: bytes, status: int, headers: dict, content_type: str) -> Response:
        """Sent in pieces, so that a client hanging up shows as the end of a download in flight."""

        def pieces():
            with self._lock:
                self.downloads_in_flight += 1
            complete = False
            try:
                for start in range(0, len(data), 64 * 1024):
                    yield data[start : start + 64 * 1024]
                complete = True
            finally:
                with self._lock:
                    self.downloads_in_flight -= 1
                    self.downloads_cut_short += not complete

        headers = {**headers, "Content-Length": str(len(data))}
        return Response(pieces(), status=status, headers=headers, content_type=content_type, direct_passthrough=True)

    def _upload(self, bucket: str):
        refused = self._authorized(write=True)
        if refused:
            return refused
        if bucket not in self.buckets:
            return _api_error(404, "The specified bucket does not exist.", "notFound")
        upload_type = request.args.get("uploadType")
        if upload_type == "multipart":
            parsed = _multipart_related(request)
            if parsed is None:
                return _api_error(400, "Malformed multipart body.", "invalid")
            resource, content_type, data = parsed
        elif upload_type == "media":
            resource, content_type, data = {"name": request.args.get("name")}, request.content_type, request.get_data()
        else:
            return _api_error(400, f"Unsupported uploadType: {upload_type}", "invalid")
        name = resource.get("name") or request.args.get("name")
        if not name:
            return _api_error(400, "Required: object name", "required")
        match = request.args.get("ifGenerationMatch")  # "0": only if no live object has that name
        current = self.buckets[bucket].get(name)
        if match is not None and match != (str(current.generation) if current else "0"):
            return _api_error(412, "At least one of the pre-conditions you specified did not hold.", "conditionNotMet")
        metadata = resource.get("metadata") or {}
        stored = self.put(
            bucket, name, data, content_type=resource.get("contentType") or content_type or "application/octet-stream"
        )
        stored.metadata = {str(k): str(v) for k, v in metadata.items()}
        return self._resource(bucket, name, stored)

    def _resource(self, bucket: str, name: str, stored: StoredObject) -> dict:
        updated = stored.updated.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stored.updated.microsecond // 1000:03d}Z"
        resource = {
            "kind": "storage#object",
            "id": f"{bucket}/{name}/{stored.generation}",
            "name": name,
            "bucket": bucket,
            "selfLink": f"{self.url}/storage/v1/b/{bucket}/o/{quote(name, safe='')}",
            "mediaLink": f"{self.url}/download/storage/v1/b/{bucket}/o/{quote(name, safe='')}"
            f"?generation={stored.generation}&alt=media",
            "generation": str(stored.generation),
            "metageneration": "1",
            "contentType": stored.content_type,
            "storageClass": "STANDARD",
            "size": str(len(stored.data)),
            "md5Hash": _md5(stored.data),
            "crc32c": _crc32c(stored.data),
            "etag": _etag(stored),
            "timeCreated": updated,
            "updated": updated,
        }
        if stored.metadata:
            resource["metadata"] = stored.metadata
        return resource


def _multipart_related(req) -> tuple[dict, str, bytes] | None:
    """The JSON resource and the media of a `multipart/related` upload (RFC 2387)."""
    boundary = req.mimetype_params.get("boundary")
    if req.mimetype != "multipart/related" or not boundary:
        return None
    parts = []
    for chunk in req.get_data().split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        headers = dict(line.split(b":", 1) for line in head.split(b"\r\n") if b":" in line)
        content_type = next(
            (v.strip().decode() for k, v in headers.items() if k.strip().lower() == b"content-type"), ""
        )
        parts.append((content_type, body[:-2] if body.endswith(b"\r\n") else body))
    if len(parts) != 2:
        return None
    try:
        resource = json.loads(parts[0][1])
    except ValueError:
        return None
    return resource, parts[1][0], parts[1][1]


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324 - the checksum GCS reports


def _crc32c(data: bytes) -> str:
    return base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode()


def _etag(stored: StoredObject) -> str:
    return base64.b64encode(f"{stored.generation}/1".encode()).decode()


def _api_error(status: int, message: str, reason: str) -> Response:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }
    return Response(json.dumps(body), status=status, content_type="application/json; charset=UTF-8")


def _oauth_error(error: str, description: str = "") -> Response:
    return Response(
        json.dumps({"error": error, "error_description": description}), status=400, content_type="application/json"
    )


@pytest.fixture(scope="session")
def gcs_server():
    server = GcsServer().start()
    yield server
    server.stop()
