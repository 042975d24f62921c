"""Which stream ids may reach the storage at all.

A stream id becomes one path segment of an object key (`{prefix}/{stream_id}/audio.ogg`) or of a file
path, so anything that could climb out of that segment, hide in it or be read differently by another
layer (a proxy, a second URL decoding, a Unicode normalisation) is refused before any storage call.
"""

from __future__ import annotations

import unicodedata

from app.services.recordings.errors import InvalidStreamId

MAX_STREAM_ID_BYTES = 256
# What of the rules below a regular expression can say, for the API's documentation.
STREAM_ID_PATTERN = r"^[^/\\%\x00-\x1f\x7f]+$"

# Cc controls (NUL, CR, LF, ESC...), Cf invisible formatting (bidi overrides, zero-width joiners),
# Cs lone surrogates, Co private use, Cn unassigned, Zl/Zp line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# "%": a percent sign left after the server's own decoding means the id was encoded twice, which a
# proxy or store may decode again (%252F -> %2F -> /). U+FFFD: the client sent invalid UTF-8
# (overlong encodings such as %C0%AE are the classic traversal trick).
_REFUSED_CHARACTERS = {
    "/": "stream_id must not contain a slash",
    "\\": "stream_id must not contain a backslash",
    "%": "stream_id must not contain a percent sign (was it encoded twice?)",
    "\ufffd": "stream_id is not valid UTF-8",
}
# Look-alikes of "/", "\\" and "." that NFKC normalisation does not fold into them.
_LOOKALIKES = frozenset("\u2215\u2044\u29f8\u2216\u29f5\u29f9\u2024\u2025\u2026\ufe52\ufe68\u3002\uff61")


def validate_stream_id(stream_id: str) -> str:
    """Return `stream_id` unchanged when it is safe as a storage path segment, else raise InvalidStreamId."""
    reason = _refusal(stream_id)
    if reason:
        raise InvalidStreamId(f"Invalid stream_id format: {reason}")
    return stream_id


def _refusal(stream_id: str) -> str | None:
    if not stream_id or not stream_id.strip():
        return "stream_id cannot be empty"
    if len(stream_id.encode("utf-8", "surrogatepass")) > MAX_STREAM_ID_BYTES:
        return f"stream_id is longer than {MAX_STREAM_ID_BYTES} bytes"
    for character in stream_id:
        if unicodedata.category(character) in _REFUSED_CATEGORIES:
            return "stream_id contains a control or invisible character"
        if character in _REFUSED_CHARACTERS:
            return _REFUSED_CHARACTERS[character]
        if character in _LOOKALIKES:
            return "stream_id contains a character that looks like a slash or a dot"
    if ".." in stream_id or stream_id == ".":
        return "stream_id must not contain '..' or be '.'"
    folded = unicodedata.normalize("NFKC", stream_id)
    if any(c in folded for c in "/\\%") or ".." in folded or folded == ".":
        return "stream_id contains a character that looks like a slash or a dot"
    return None
