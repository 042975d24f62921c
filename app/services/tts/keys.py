"""The cache key of a synthesis: a stable hash of everything that changes the audio."""

from __future__ import annotations

import hashlib
import json

from app.services.tts.request import SpeechRequest

_VERSION = 1  # bump when the derivation changes, so old entries are simply never hit again


def synthesis_key(request: SpeechRequest) -> str:
    """sha256 hex over the text (after pronunciations) and provider, model, voice, format, rate, speaking
    rate and voice settings. Timeouts do not change the audio and are left out. Per-request provider
    credentials are part of it (hashed), so a tenant's private voices are never served under another key."""
    material = {
        "v": _VERSION,
        "text": request.text,
        "provider": request.provider,
        "model": request.model,
        "voice": request.voice_id,
        "format": request.audio_format,
        "rate": request.sample_rate,
        "speed": f"{request.speaking_rate:.3f}",
        "settings": request.voice_settings,
        "credentials": _fingerprint(request.auth) if request.auth else None,
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _fingerprint(auth: dict) -> str:
    """A hash of the credentials, independent of key order (a Google credentials object arrives in any order)."""
    canonical = json.dumps(auth, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
