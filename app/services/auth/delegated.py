"""Delegated authentication: we sign a short-lived JWT describing the request and POST it to the
customer's auth service, which answers allow (200 {"id": tenant}), deny (401/4xx) or fails."""

from __future__ import annotations

import json
import time

import jwt
import requests

from app.services.auth.context import AuthContext, RequestInfo
from app.services.auth.errors import (
    AuthServiceFailed,
    AuthServiceRejected,
    AuthServiceUnavailable,
    AuthSigningError,
)
from app.services.auth.signing_key import load_signing_key
from app.settings import AuthSettings

_DROPPED_HEADERS = {"authorization", "cookie", "host", "x-real-ip"}
_BODY_LIMIT = 500
JWT_LIFETIME_SECONDS = 300


def forwarded_headers(headers: dict[str, str]) -> dict[str, str]:
    """Request headers the auth service may see: lower-cased, without credentials or proxy headers."""
    kept = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _DROPPED_HEADERS or lower.startswith(("x-forwarded-", "x-sayna-")):
            continue
        kept[lower] = value
    return kept


def _truncate(text: str) -> str:
    return text if len(text) <= _BODY_LIMIT else text[:_BODY_LIMIT] + "... (truncated)"


class DelegatedAuthClient:
    def __init__(self, settings: AuthSettings):
        self.timeout = settings.timeout_seconds
        if not (settings.service_url and settings.signing_key_path):
            raise ValueError("delegated authentication needs AUTH_SERVICE_URL and AUTH_SIGNING_KEY_PATH")
        self.url: str = settings.service_url
        self._key, self.algorithm = load_signing_key(settings.signing_key_path)
        self._http = requests.Session()

    def sign(self, token: str, request: RequestInfo) -> str:
        try:
            body = json.loads(request.body) if request.body else {}
        except (ValueError, UnicodeDecodeError):
            body = {}
        now = int(time.time())
        claims = {
            "sub": "sayna-auth",
            "iat": now,
            "exp": now + JWT_LIFETIME_SECONDS,
            "auth_data": {
                "token": token,
                "request_body": body,
                "request_headers": forwarded_headers(request.headers),
                "request_path": request.path,
                "request_method": request.method,
            },
        }
        try:
            return jwt.encode(claims, self._key, algorithm=self.algorithm)
        except Exception as exc:  # noqa: BLE001 - any signing failure is a 500 of its own kind
            raise AuthSigningError(f"JWT signing error: {type(exc).__name__}") from None

    def authorize(self, token: str, request: RequestInfo) -> AuthContext:
        signed = self.sign(token, request)
        try:
            response = self._http.post(
                self.url, data=signed, timeout=self.timeout, headers={"Content-Type": "application/jwt"}
            )
        except requests.RequestException as exc:
            raise AuthServiceUnavailable(f"Auth service unavailable: {type(exc).__name__}") from None
        if response.status_code == 200:
            try:
                payload = response.json()
            except ValueError:
                payload = None
            auth_id = payload.get("id") if isinstance(payload, dict) else None
            return AuthContext(auth_id if isinstance(auth_id, str) else None)
        detail = _truncate(response.text)
        if response.status_code == 401:
            raise AuthServiceRejected(f"Unauthorized: {detail}", code="unauthorized")
        reason = f"{response.status_code} {response.reason or ''}".strip()
        if 400 <= response.status_code < 500:
            raise AuthServiceRejected(f"Auth service error ({reason}): {detail}")
        raise AuthServiceFailed(f"Auth service error ({reason}): {detail}")

    def close(self) -> None:
        self._http.close()
