"""Which response form and which audio format the client asked for through `Accept`.

Both are pure functions of the header's text, memoized: clients send the same few Accept values, and
parsing one cost a noticeable share of a cache hit."""

from __future__ import annotations

from functools import lru_cache

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from app.services.tts.audio import format_for_media_type

JSON, AUDIO = "json", "audio"


def response_form(accept_header: str | None, nested: bool) -> str:
    """JSON for an explicit application/json, audio for audio/* or application/octet-stream (the higher
    quality wins, the first listed on a tie); otherwise audio for the SDKs' nested form and JSON for the
    REST guide's flat form."""
    return _preferred_form(accept_header or "") or (AUDIO if nested else JSON)


def accepted_audio_format(accept_header: str | None) -> str | None:
    """The format named by the most preferred specific audio type in `Accept` (e.g. audio/wav → wav)."""
    return _accepted_audio_format(accept_header or "")


@lru_cache(maxsize=256)
def _preferred_form(accept_header: str) -> str | None:
    best_form, best_quality = None, 0.0
    for value, quality in parse_accept_header(accept_header, MIMEAccept):
        value = value.lower()
        form = (
            JSON
            if value == "application/json"
            else AUDIO
            if value.startswith("audio/") or value == "application/octet-stream"
            else None
        )
        if form and quality > best_quality:
            best_form, best_quality = form, quality
    return best_form


@lru_cache(maxsize=256)
def _accepted_audio_format(accept_header: str) -> str | None:
    for value, quality in sorted(parse_accept_header(accept_header, MIMEAccept), key=lambda item: -item[1]):
        if quality > 0 and (audio_format := format_for_media_type(value)):
            return audio_format
    return None
