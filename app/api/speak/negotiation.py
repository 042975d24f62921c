"""Which response form and which audio format the client asked for through `Accept`."""
from __future__ import annotations

from werkzeug.datastructures import MIMEAccept

from app.services.tts.audio import format_for_media_type

JSON, AUDIO = "json", "audio"


def response_form(accept: MIMEAccept, nested: bool) -> str:
    """JSON for an explicit application/json, audio for audio/* or application/octet-stream (the higher
    quality wins, the first listed on a tie); otherwise audio for the SDKs' nested form and JSON for the
    REST guide's flat form."""
    best_form, best_quality = None, 0.0
    for value, quality in accept:
        value = value.lower()
        form = JSON if value == "application/json" else \
            AUDIO if value.startswith("audio/") or value == "application/octet-stream" else None
        if form and quality > best_quality:
            best_form, best_quality = form, quality
    if best_form:
        return best_form
    return AUDIO if nested else JSON


def accepted_audio_format(accept: MIMEAccept) -> str | None:
    """The format named by the most preferred specific audio type in `Accept` (e.g. audio/wav → wav)."""
    for value, quality in sorted(accept, key=lambda item: -item[1]):
        if quality > 0 and (audio_format := format_for_media_type(value)):
            return audio_format
    return None
