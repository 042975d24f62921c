"""A fake Google Cloud Text-to-Speech as a real HTTP server: the OAuth2 token endpoint a service account's
`token_uri` names (the RFC 7523 JWT-bearer grant google-auth sends, its signature checked with the key
pair this fake made; and the refresh-token grant of authorized-user credentials), `POST /v1/text:synthesize`
answering `{"audioContent": base64}` and `GET /v1/voices`, errors in Google's `{"error": {code, message,
status}}` shape. Wire facts: the Cloud Text-to-Speech REST reference, google-auth 2.63 (`_client.jwt_grant`)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, request

from tests.fakes.tone import encode, tone

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# google-auth addresses the grant to Google's token endpoint whatever URL it posts it to
# (service_account._DEFAULT_TOKEN_URI), and that endpoint checks the audience.
GRANT_AUDIENCE = "https://oauth2.googleapis.com/token"
VOICES = [
    {"languageCodes": ["en-US"], "name": "en-US-Neural2-F", "ssmlGender": "FEMALE", "naturalSampleRateHertz": 24000},
    {"languageCodes": ["en-US"], "name": "en-US-Wavenet-D", "ssmlGender": "MALE", "naturalSampleRateHertz": 24000},
    {"languageCodes": ["en-GB"], "name": "en-GB-Standard-A", "ssmlGender": "FEMALE", "naturalSampleRateHertz": 24000},
    {"languageCodes": ["cmn-CN"], "name": "cmn-CN-Wavenet-A", "ssmlGender": "FEMALE", "naturalSampleRateHertz": 24000},
]
# audioEncoding -> (soundfile container, subtype); LINEAR16, MULAW and ALAW come inside a WAV header
_ENCODINGS = {
    "LINEAR16": ("WAV", "PCM_16"),
    "MULAW": ("WAV", "ULAW"),
    "ALAW": ("WAV", "ALAW"),
    "PCM": ("RAW", "PCM_16"),
    "MP3": ("MP3", "MPEG_LAYER_III"),
    "OGG_OPUS": ("OGG", "OPUS"),
}
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
TOKEN_LIFETIME = 3599


class FakeGoogle:
    def __init__(self, project_id: str = "sayna-test-project"):
        self.project_id = project_id
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.client_email = f"tts@{project_id}.iam.gserviceaccount.com"
        self.refresh_tokens = {"user-refresh-token-1": ("user-client-id", "user-client-secret")}
        self.url = ""  # set once served: token_uri points here
        self.calls: list[dict] = []
        self.tokens: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self.token_requests = 0
        self.fail_next: list[int] = []
        self.echo_refused_grant = False  # some token endpoints (proxies) repeat what they refused
        self._lock = threading.Lock()
        self.app = Flask("fake-google")
        self.app.add_url_rule("/token", "token", self._token, methods=["POST"])
        self.app.add_url_rule("/v1/text:synthesize", "synthesize", self._synthesize, methods=["POST"])
        self.app.add_url_rule("/v1/voices", "voices", self._voices, methods=["GET"])

    # --- credentials a test hands to the server -------------------------------------------------------

    def service_account_info(self, **overrides) -> dict:
        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": "key-1",
            "private_key": pem,
            "client_email": self.client_email,
            "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": f"{self.url}/token",
        }
        info.update(overrides)
        return info

    def authorized_user_info(self, **overrides) -> dict:
        info = {
            "type": "authorized_user",
            "client_id": "user-client-id",
            "client_secret": "user-client-secret",
            "refresh_token": "user-refresh-token-1",
            "quota_project_id": self.project_id,
            "token_uri": f"{self.url}/token",
        }
        info.update(overrides)
        return info

    @property
    def speak_calls(self) -> list[dict]:
        return [call for call in self.calls if call["path"] == "/v1/text:synthesize"]

    # --- the token endpoint ---------------------------------------------------------------------------

    def _token(self):
        with self._lock:
            self.token_requests += 1
        grant = request.form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            try:
                claims = jwt.decode(
                    request.form.get("assertion", ""),
                    self._key.public_key(),
                    algorithms=["RS256"],
                    audience=GRANT_AUDIENCE,
                )
            except jwt.PyJWTError:
                return _oauth_error("invalid_grant", "Invalid JWT Signature.")
            if claims.get("iss") != self.client_email:
                return _oauth_error("invalid_grant", "Invalid grant: account not found")
            if SCOPE not in str(claims.get("scope", "")).split():
                return _oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        elif grant == "refresh_token":
            client = self.refresh_tokens.get(request.form.get("refresh_token", ""))
            if client is None or client != (request.form.get("client_id"), request.form.get("client_secret")):
                echo = (
                    f" ({request.form.get('refresh_token')}, {request.form.get('client_secret')})"
                    if self.echo_refused_grant
                    else ""
                )
                return _oauth_error("invalid_grant", "Token has been expired or revoked." + echo)
        else:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type")
        token = "ya29." + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = time.time() + TOKEN_LIFETIME
        return Response(
            json.dumps({"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer", "scope": SCOPE}),
            mimetype="application/json",
        )

    def _authorized(self) -> bool:
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        with self._lock:
            expiry = self.tokens.get(token)
        return expiry is not None and expiry > time.time()

    def _record(self) -> None:
        with self._lock:
            self.calls.append(
                {
                    "path": request.path,
                    "body": request.get_data(as_text=True),
                    "authorization": request.headers.get("Authorization", ""),
                    "user_project": request.headers.get("x-goog-user-project"),
                }
            )

    # --- the API --------------------------------------------------------------------------------------

    def _synthesize(self):
        self._record()
        with self._lock:
            forced = self.fail_next.pop(0) if self.fail_next else None
        if forced:
            return _error(forced, "UNAVAILABLE", "The service is currently unavailable.")
        if not self._authorized():
            return _error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 "
                "access token, login cookie or other valid authentication "
                "credential.",
            )
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            return _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        text = (body.get("input") or {}).get("text") or ""
        voice, config = body.get("voice") or {}, body.get("audioConfig") or {}
        if not text.strip():
            return _error(400, "INVALID_ARGUMENT", "Either `input.text` or `input.ssml` needs to be set.")
        if len(text.encode()) > 5000:
            return _error(
                400, "INVALID_ARGUMENT", "Either `input.text` or `input.ssml` is longer than the limit of 5000 bytes."
            )
        known = {v["name"]: v for v in VOICES}
        if voice.get("name") not in known or voice.get("languageCode") not in known[voice["name"]]["languageCodes"]:
            return _error(400, "INVALID_ARGUMENT", f"Voice '{voice.get('name')}' does not exist. Is it misspelled?")
        encoding = config.get("audioEncoding")
        if encoding not in _ENCODINGS:
            return _error(400, "INVALID_ARGUMENT", f"Invalid value at 'audio_config.audio_encoding' ({encoding})")
        rate = int(config.get("sampleRateHertz") or 24000)
        if encoding == "OGG_OPUS" and rate not in _OPUS_RATES:
            return _error(400, "INVALID_ARGUMENT", f"OGG_OPUS does not support sample rate {rate}")
        speed = float(config.get("speakingRate") or 1.0)
        if not 0.25 <= speed <= 4.0:
            return _error(400, "INVALID_ARGUMENT", "speaking_rate must be between 0.25 and 4.0")
        container, subtype = _ENCODINGS[encoding]
        data = encode(tone(text, rate), rate, container, subtype)
        return Response(json.dumps({"audioContent": base64.b64encode(data).decode()}), mimetype="application/json")

    def _voices(self):
        self._record()
        if not self._authorized():
            return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        return Response(json.dumps({"voices": VOICES}), mimetype="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return Response(
        json.dumps({"error": {"code": status, "message": message, "status": code}}),
        status=status,
        mimetype="application/json",
    )


def _oauth_error(error: str, description: str) -> Response:
    return Response(
        json.dumps({"error": error, "error_description": description}), status=400, mimetype="application/json"
    )
