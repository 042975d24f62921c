"""HTTP download semantics over a described recording: conditional requests (ETag, dates) and single
byte ranges. Plain values in, a plan out; the web layer only copies headers."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.http import parse_date, parse_etags, parse_range_header, unquote_etag

from app.errors import RangeNotSatisfiable
from app.services.recordings.store import ByteRange, RecordingBody, RecordingInfo


@dataclass(frozen=True)
class DownloadRequest:
    """The request headers that shape a download, as sent (None when absent)."""

    method: str = "GET"
    range: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    if_range: str | None = None

    @property
    def is_plain_get(self) -> bool:
        """A GET of the whole recording with no condition: no need to describe it before reading it."""
        return self.method == "GET" and not (self.range or self.if_none_match or self.if_modified_since)


@dataclass
class Download:
    status: int  # 200, 206 or 304
    info: RecordingInfo
    byte_range: ByteRange | None = None
    body: RecordingBody | None = None  # None for HEAD and 304

    @property
    def content_length(self) -> int:
        return self.byte_range.length if self.byte_range else self.info.size


def plan_download(info: RecordingInfo, request: DownloadRequest) -> tuple[int, ByteRange | None]:
    """(status, byte range) for `request`: 304 when the caller's copy is current, 206 for one
    satisfiable range, else 200 for the whole recording. Raises RangeNotSatisfiable (416)."""
    if _not_modified(info, request):
        return 304, None
    # Range only applies to GET (RFC 9110 §14.2); several ranges or a malformed header are ignored,
    # which the RFC allows, and the whole recording is sent.
    if request.method != "GET" or not request.range:
        return 200, None
    if request.if_range and not _if_range_holds(info, request.if_range):
        return 200, None
    parsed = parse_range_header(request.range)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        return 200, None
    bounds = parsed.range_for_length(info.size)
    if bounds is None:
        raise RangeNotSatisfiable(
            f"Requested range not satisfiable: the recording has {info.size} bytes",
            headers={"Content-Range": f"bytes */{info.size}", "Accept-Ranges": "bytes"},
        )
    start, stop = bounds
    return 206, ByteRange(start, stop - 1)


def _not_modified(info: RecordingInfo, request: DownloadRequest) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if request.if_none_match:
        tags = parse_etags(request.if_none_match)
        return bool(info.etag) and (tags.star_tag or tags.contains_weak(unquote_etag(info.etag)[0]))
    if request.if_modified_since and info.last_modified is not None:
        since = parse_date(request.if_modified_since)
        return since is not None and info.last_modified.replace(microsecond=0) <= since
    return False


def _if_range_holds(info: RecordingInfo, if_range: str) -> bool:
    """If-Range: serve the range only when the caller's validator still matches, compared strongly."""
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        tag, weak = unquote_etag(value)
        ours, our_weak = unquote_etag(info.etag) if info.etag else (None, True)
        return not weak and not our_weak and tag == ours
    since = parse_date(value)
    return since is not None and info.last_modified is not None and info.last_modified.replace(microsecond=0) == since
