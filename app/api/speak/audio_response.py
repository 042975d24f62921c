"""The audio itself as an HTTP answer, with its validators: a cache hit sent from its file, a miss from
its bytes.

A hit's file goes to the WSGI server's `wsgi.file_wrapper` untouched (gunicorn then sendfile()s it: the
audio never passes through Python), or, behind nginx with CACHE_X_ACCEL_LOCATION, is left to nginx with
X-Accel-Redirect. `ETag` is the audio's sha256 (the cache's checksum), so a URL's answer keeps its tag
across workers and restarts. Werkzeug's `make_conditional` answers `If-None-Match` (304) and one `Range`
(206, or 416) on GET and HEAD; other methods have no range semantics (RFC 9110 §14.2) and get the audio.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from flask import Response
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import http_date, quote_etag
from werkzeug.wrappers import Request
from werkzeug.wsgi import wrap_file

from app.errors import ApiError, RangeNotSatisfiable
from app.services.tts import SpeechRequest, SpeechResult
from app.services.tts.audio import CONTENT_TYPES
from app.services.tts.speech import CachedSpeech
from app.services.tts.speech_stream import StreamedSpeech
from app.settings import Settings

log = logging.getLogger("app.speak")

CONDITIONS = frozenset(
    ("HTTP_RANGE", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")
)


@dataclass(frozen=True)
class Delivery:
    """How answers are sent, besides the audio: fixed for an app and a route."""

    cache_control: str | None = None
    accel_location: str | None = None  # nginx's internal location aliasing `cache_root`
    cache_root: str = ""


def delivery_for(settings: Settings, method: str) -> Delivery:
    """How GET and POST answers of this deployment are sent."""
    cache_control = None
    if method == "GET":
        ttl = settings.cache.ttl_seconds or 31_536_000  # 0 = never expires: a year, HTTP's customary maximum
        cache_control = "private" if settings.auth.required else f"public, max-age={ttl}, immutable"
    accel = settings.cache_accel_location
    return Delivery(cache_control, accel, str(settings.cache.path) if accel else "")


def audio_response(
    request: Request,
    delivered: CachedSpeech | SpeechResult | StreamedSpeech,
    delivery: Delivery,
    location: str | None = None,
) -> Response:
    if isinstance(delivered, StreamedSpeech):
        return _streamed_response(delivered, delivery, location)
    if isinstance(delivered, CachedSpeech):
        response, size = _file_response(request, delivered, delivery), delivered.entry.size
    else:
        data = delivered.audio.data
        response, size = Response(data, mimetype=delivered.audio.content_type), len(data)
        response.set_etag(hashlib.sha256(data).hexdigest())
    cached = isinstance(delivered, CachedSpeech) or delivered.cached
    response.headers.update(speech_headers(delivered.request, cached))
    if delivery.cache_control:
        response.headers["Cache-Control"] = delivery.cache_control
    if location:
        response.headers["Content-Location"] = location
    accel = "X-Accel-Redirect" in response.headers
    if not CONDITIONS.intersection(request.environ):
        # nothing to decide: werkzeug would still parse our own Last-Modified back and format a Date
        # (gunicorn sends one), a tenth of a hit
        if not accel:
            response.headers["Accept-Ranges"] = "bytes"
        return response
    try:
        # Behind X-Accel-Redirect nginx sends the ranges; a 304 is ours (nginx's own ETag would differ).
        response.make_conditional(request, accept_ranges=not accel, complete_length=size)
    except RequestedRangeNotSatisfiable:
        response.close()
        raise RangeNotSatisfiable(
            f"Range not satisfiable: the audio is {size} bytes", headers={"Content-Range": f"bytes */{size}"}
        ) from None
    if accel and response.status_code == 304:
        del response.headers["X-Accel-Redirect"]
    return response


def _streamed_response(streamed: StreamedSpeech, delivery: Delivery, location: str | None) -> Response:
    """A miss as it arrives: chunked, without a length or an ETag (neither is known before the end)."""
    response = Response(_CutShortOnFailure(streamed), mimetype=streamed.content_type, direct_passthrough=True)
    response.headers.update(speech_headers(streamed.request, streamed.cached))
    if delivery.cache_control:
        response.headers["Cache-Control"] = delivery.cache_control
    if location:
        response.headers["Content-Location"] = location
    return response


class _CutShortOnFailure:
    """The chunks of a streamed answer; when the provider fails after the status was sent, the connection
    is dropped without the last chunk, so that no client takes a fragment for the whole audio (gunicorn
    closes a connection quietly on ECONNRESET)."""

    def __init__(self, streamed: StreamedSpeech):
        self._streamed = streamed

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._streamed.chunks
        except ApiError as exc:
            log.warning("speech stream cut short: %s (%s)", exc.message, exc.code)
            raise ConnectionResetError(errno.ECONNRESET, "speech stream cut short") from None

    def close(self) -> None:
        self._streamed.chunks.close()


def _file_response(request: Request, hit: CachedSpeech, delivery: Delivery) -> Response:
    entry = hit.entry
    mimetype = CONTENT_TYPES[entry.audio_format]
    if delivery.accel_location:
        hit.file.close()  # opened to check the entry; nginx opens it again by its path
        response = Response(b"", mimetype=mimetype)
        relative = os.path.relpath(entry.path, delivery.cache_root)
        response.headers["X-Accel-Redirect"] = delivery.accel_location + relative
    else:
        response = Response(wrap_file(request.environ, hit.file), mimetype=mimetype, direct_passthrough=True)
        response.content_length = entry.size
    response.headers["ETag"], response.headers["Last-Modified"] = _validators(entry.checksum, entry.created_at)
    return response


@lru_cache(maxsize=4096)
def _validators(checksum: str, created_at: float) -> tuple[str, str]:
    """An entry's ETag and Last-Modified, formatted once per entry rather than on every hit."""
    return quote_etag(checksum), http_date(created_at)


def speech_headers(request: SpeechRequest, cached: bool) -> dict[str, str]:
    # Spelled exactly so: the Python SDK hands users a case-sensitive dict of these headers.
    return {
        "x-audio-format": request.audio_format,
        "x-sample-rate": str(request.sample_rate),
        "x-voice-id": request.voice_id,
        "x-provider": request.provider,
        "x-cache": "HIT" if cached else "MISS",
    }
