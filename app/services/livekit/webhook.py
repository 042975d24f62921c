"""Verification of the webhooks LiveKit posts to us.

LiveKit signs each delivery with a JWT (HS256, our API key and secret) in the `Authorization` header,
carrying `sha256` = base64 of the SHA-256 of the exact body bytes: a token for another body fails."""

from __future__ import annotations

import base64
import hashlib
import hmac

import jwt
from google.protobuf import json_format
from livekit.protocol.webhook import WebhookEvent

from app import strict_json
from app.errors import BadRequest, ServiceUnavailable, Unauthorized
from app.settings import LiveKitSettings

_LEEWAY_SECONDS = 60  # as LiveKit's own verifier


class WebhookRejected(Unauthorized):
    code, message = "invalid_webhook_signature", "Invalid LiveKit webhook signature"


class WebhookVerifier:
    def __init__(self, settings: LiveKitSettings):
        self.settings = settings

    def verify(self, body: bytes, authorization: str | None) -> WebhookEvent:
        if not (self.settings.api_key and self.settings.api_secret):
            raise ServiceUnavailable(
                "LiveKit webhooks cannot be verified: LiveKit credentials are not configured",
                code="livekit_not_configured",
            )
        token = (authorization or "").strip()
        if token[:7].lower() == "bearer ":  # LiveKit sends the bare token; accept the prefix too, as upstream
            token = token[7:].strip()
        if not token:
            raise WebhookRejected("Missing LiveKit webhook signature")
        try:
            claims = jwt.decode(
                token,
                self.settings.api_secret,
                algorithms=["HS256"],
                issuer=self.settings.api_key,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iss"]},
            )
        except jwt.PyJWTError:
            raise WebhookRejected() from None
        expected = base64.b64encode(hashlib.sha256(body).digest()).decode()
        claimed = claims.get("sha256")
        if not isinstance(claimed, str) or not hmac.compare_digest(claimed.encode(), expected.encode()):
            raise WebhookRejected("LiveKit webhook body does not match its signature")
        try:
            document = strict_json.loads(body)
            if not isinstance(document, dict):  # protobuf's parser would take `[]` for an empty event
                raise ValueError("not a JSON object")
            return json_format.ParseDict(document, WebhookEvent(), ignore_unknown_fields=True)
        except (ValueError, json_format.ParseError):  # strict_json.InvalidJson included
            raise BadRequest("The webhook body is not a LiveKit event", code="invalid_webhook_event") from None
