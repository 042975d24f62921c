"""A customer's auth service, as a real HTTP server: it verifies our signed JWT with the public key
and decides by the bearer token it carries.

Tokens: `allow:<tenant>` → 200 {"id": tenant}; `allow` → 200 with no body; `deny` → 401 "Invalid token";
`forbid` → 403; `crash` → 500; `slow` → answers after `slow_seconds`. Anything else → 401."""

from __future__ import annotations

import json
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask, Response, request


def write_private_key(path, kind: str = "rsa"):
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return key.public_key()


class FakeAuthService:
    def __init__(self, public_key, slow_seconds: float = 3.0):
        self.public_key = public_key
        self.slow_seconds = slow_seconds
        self.calls: list[dict] = []
        self.app = Flask("fake-auth-service")
        self.app.add_url_rule("/auth", "auth", self._auth, methods=["POST"])

    def _auth(self):
        if request.mimetype != "application/jwt":
            return Response("expected application/jwt", status=415)
        try:
            claims = jwt.decode(
                request.get_data(as_text=True),
                self.public_key,
                algorithms=["RS256", "ES256"],
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as exc:
            return Response(f"bad signature: {exc}", status=400)
        if claims.get("sub") != "sayna-auth" or claims["exp"] - claims["iat"] > 300:
            return Response("bad claims", status=400)
        self.calls.append(claims)
        token = claims["auth_data"]["token"]
        if token.startswith("allow:"):
            return Response(json.dumps({"id": token.split(":", 1)[1]}), mimetype="application/json")
        if token == "allow":
            return Response("", status=200)
        if token == "forbid":
            return Response("tenant suspended", status=403)
        if token == "crash":
            return Response("database down", status=500)
        if token == "slow":
            time.sleep(self.slow_seconds)
            return Response(json.dumps({"id": "late"}), mimetype="application/json")
        return Response("Invalid token", status=401)
