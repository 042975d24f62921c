from flask import Response, request
from werkzeug.routing import BaseConverter

from app.api.blueprint import Blueprint
from app.extensions import ErrorSchema, services
from app.security import current_tenant
from app.services.recordings import MAX_STREAM_ID_BYTES, STREAM_ID_PATTERN, Download, DownloadRequest

blp = Blueprint("recording", __name__, description="Session recordings")


class StreamIdConverter(BaseConverter):
    """Everything after `/recording/`, empty, slashes and line breaks included: werkzeug decodes `%2F`
    into "/" and `%0A` into a newline before routing, and such ids must reach the validator (400)
    rather than fall into the router's 404."""

    regex = "(?s:.*)"
    part_isolating = False
    checks_own_text = True  # the stream id validator names a NUL itself (`invalid_stream_id`)


# Runs before the route below is added: the converter must exist when the rule is compiled.
blp.record_once(lambda state: state.app.url_map.converters.setdefault("stream_id", StreamIdConverter))

_AUDIO_HEADERS = {
    "Content-Length": {"description": "Size of the body in bytes", "schema": {"type": "integer"}},
    "Content-Disposition": {"description": 'attachment; filename="{stream_id}.ogg"', "schema": {"type": "string"}},
    "Accept-Ranges": {"description": "Always `bytes`", "schema": {"type": "string"}},
    "ETag": {"description": "Entity tag, for If-None-Match and If-Range", "schema": {"type": "string"}},
    "Last-Modified": {"description": "When the recording was stored", "schema": {"type": "string"}},
}


_STREAM_ID_PARAMETER = {
    "in": "path",
    "name": "stream_id",
    "required": True,
    "description": "The session's stream id: at most 256 bytes, without '/', '\\', '..', '%' or control characters",
    "schema": {
        "type": "string",
        "maxLength": MAX_STREAM_ID_BYTES,
        "pattern": STREAM_ID_PATTERN,
        "example": "550e8400-e29b-41d4-a716-446655440000",
    },
}


@blp.route(
    "/recording/<stream_id:stream_id>", methods=["GET", "HEAD"], merge_slashes=False, parameters=[_STREAM_ID_PARAMETER]
)
@blp.doc(
    responses={
        "200": {
            "description": "The recording, streamed",
            "headers": _AUDIO_HEADERS,
            "content": {"audio/ogg": {"schema": {"type": "string", "format": "binary"}}},
        },
        "206": {
            "description": "One byte range of the recording (`Range: bytes=a-b`), with `Content-Range`",
            "headers": {**_AUDIO_HEADERS, "Content-Range": {"schema": {"type": "string"}}},
            "content": {"audio/ogg": {"schema": {"type": "string", "format": "binary"}}},
        },
        "304": {"description": "The caller's copy is current (`If-None-Match` or `If-Modified-Since`)"},
    },
)
@blp.alt_response(400, schema=ErrorSchema, description="Invalid stream_id (`invalid_stream_id`)")
@blp.alt_response(
    404, schema=ErrorSchema, description="No such recording, or it belongs to another tenant (`recording_not_found`)"
)
@blp.alt_response(416, schema=ErrorSchema, description="The range lies outside the recording (`range_not_satisfiable`)")
@blp.alt_response(
    503,
    schema=ErrorSchema,
    description="Recording storage not configured (`storage_not_configured`) "
    "or unreachable or refusing (`storage_unavailable`)",
)
def download_recording(stream_id: str):
    """Download a session recording (Ogg audio) by stream id.

    Streamed from the configured storage. Supports HEAD, a single `Range`, and `If-None-Match` /
    `If-Range` by ETag. With AUTH_REQUIRED, a recording that names an owner is only visible to that
    tenant; recordings without an owner are visible to every authenticated caller."""
    download = services().recordings.download(
        stream_id,
        tenant=current_tenant(),
        request=DownloadRequest(
            method=request.method,
            range=request.headers.get("Range"),
            if_none_match=request.headers.get("If-None-Match"),
            if_modified_since=request.headers.get("If-Modified-Since"),
            if_range=request.headers.get("If-Range"),
        ),
    )
    return _audio_response(stream_id, download)


def _audio_response(stream_id: str, download: Download) -> Response:
    # direct_passthrough: the body's chunks go to the WSGI server untouched, and its close() runs
    # when the server closes the response, also when the client hangs up mid-download.
    response = Response(download.body or (), status=download.status, direct_passthrough=True)
    info = download.info
    headers = response.headers
    if info.etag:
        headers["ETag"] = info.etag
    if info.last_modified is not None:
        response.last_modified = info.last_modified
    headers["Accept-Ranges"] = "bytes"
    headers["Cache-Control"] = "private"
    if download.status == 304:
        del headers["Content-Type"]
        return response
    headers["Content-Type"] = "audio/ogg"
    headers["Content-Length"] = str(download.content_length)
    headers["Content-Disposition"] = _attachment(stream_id)
    if download.byte_range is not None:
        byte_range = download.byte_range
        headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{info.size}"
    return response


def _attachment(stream_id: str) -> str:
    filename = f"{stream_id}.ogg"
    if filename.isascii() and '"' not in filename:
        return f'attachment; filename="{filename}"'
    from urllib.parse import quote

    fallback = "".join(c if c.isascii() and c not in '"' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
