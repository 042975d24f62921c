"""The private key that signs delegated-auth requests, loaded once when the auth service is built (at
start-up: an unreadable key stops the server with a line naming AUTH_SIGNING_KEY_PATH)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.settings import SettingsError

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def load_signing_key(path: Path) -> tuple[SigningKey, str]:
    """The key in `path` and its JWT algorithm: RS256 for RSA, ES256 for EC P-256. Raises SettingsError."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise SettingsError(
            f"AUTH_SIGNING_KEY_PATH is not a readable unencrypted PEM private key ({type(exc).__name__})"
        ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key, "ES256"
    raise SettingsError("AUTH_SIGNING_KEY_PATH must hold an RSA or EC P-256 private key")
