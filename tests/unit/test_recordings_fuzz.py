"""Malicious stream ids, sent over a real socket to the app served live: every one is answered 400
`invalid_stream_id`, and the storage never sees a request for it (the S3 server's own request log
stays silent; a sentinel file outside the recording directory is never served). A well-formed id
at the end proves the log and the sentinel would have caught a leak."""

from __future__ import annotations

import http.client
import json
import random
import socket
from urllib.parse import quote

from tests.fakes.s3 import s3_server  # noqa: F401 - fixture
from tests.fakes.server import FakeServer

SENTINEL = b"SENTINEL-outside-the-recordings"

TRAVERSALS = [
    "..",
    "../",
    "..\\",
    "/..",
    "../../secret",
    "..;/",
    ".../",
    "....//",
    "./../",
    "%2e%2e",
    "%2E%2E%2F",
    "..%2f",
    "%2e%2e%5c",
    "%2F",
    "%5C",
    "%2f%2e%2e%2fsecret",
    ".",
]
DOUBLE_ENCODED = ["%252e%252e", "%252f", "%255c", "%25252f", "%252E%252E%252Fsecret", "%25", "%2525"]
INVALID_UTF8 = ["%c0%ae", "%c0%af", "%c1%9c", "%e0%80%ae", "%ff", "%80", "%ed%a0%80"]  # overlong, stray, surrogate
CONTROLS = [f"%{byte:02X}" for byte in [*range(0x00, 0x20), 0x7F]] + ["%C2%85", "%C2%9B"]  # C0, DEL, NEL, CSI
UNICODE_TRICKS = [
    quote(c)
    for c in [
        "\uff0e\uff0e",
        "\uff0f",
        "\uff3c",  # fullwidth . / \
        "\u2024\u2024",
        "\u2025",
        "\u2026",  # dot leaders, ellipsis
        "\u2215",
        "\u2044",
        "\u29f8",
        "\u2216",  # division, fraction and big slashes, set minus
        "\u202e",
        "\u202d",
        "\u2066",  # bidi overrides and isolates
        "\u200b",
        "\u200d",
        "\ufeff",
        "\u00ad",  # zero-width space and joiner, BOM, soft hyphen
        "\u2028",
        "\u2029",  # line and paragraph separators
        "\ue000",
        "\U000e0041",  # private use, tag character
        "\u2100",
        "\u2105",  # ℀ ℅ fold to a/c, c/o
    ]
]
HARMLESS = ["call", "42", "abc-", "_x", "room.1", "%C3%A9"]


def malicious_paths() -> list[str]:
    pieces = TRAVERSALS + DOUBLE_ENCODED + INVALID_UTF8 + CONTROLS + UNICODE_TRICKS
    paths = [f"/recording/{piece}" for piece in pieces]
    paths += [f"/recording/call{piece}42" for piece in pieces if piece not in (".", "/..")]
    generator = random.Random(20260301)
    for _ in range(300):
        parts = [generator.choice(pieces)] + [
            generator.choice(pieces + HARMLESS) for _ in range(generator.randint(0, 3))
        ]
        generator.shuffle(parts)
        paths.append("/recording/" + "".join(parts))
    paths += ["/recording/", "/recording/" + "x" * 257, "/recording/" + quote("é" * 129), "/recording/%20%20"]
    return paths


# Raw UTF-8 in the request line, which some clients send unencoded.
RAW_UTF8_PATHS = [
    "/recording/\uff0e\uff0e\uff0fsecret",
    "/recording/a\u2215b",
    "/recording/\u202ecall",
    "/recording/..\u00e9",
]


def raw_get(port: int, path: str) -> tuple[int, bytes]:
    """GET exactly these request-line bytes: no client library normalises dots or re-encodes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + path.encode("utf-8") + b" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def assert_all_refused(port: int, paths: list[str]) -> None:
    """http.client sends the request target as given (it only refuses raw control bytes, and every
    path here is percent-encoded); one kept-alive connection keeps hundreds of requests fast."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for path in paths:
            connection.request("GET", path)
            response = connection.getresponse()
            check_refusal(path, response.status, response.read())
    finally:
        connection.close()
    for path in RAW_UTF8_PATHS:
        check_refusal(path, *raw_get(port, path))


def check_refusal(path: str, status: int, body: bytes) -> None:
    assert status == 400, (path, status, body[:200])
    assert json.loads(body)["code"] == "invalid_stream_id", (path, body)
    assert SENTINEL not in body


def test_malicious_ids_never_reach_s3(make_app, s3_server):  # noqa: F811
    bucket = s3_server.new_bucket()
    # Objects a traversal would reach if it got through: beside and above the prefixed folder.
    s3_server.put(bucket, "secret/audio.ogg", SENTINEL)
    s3_server.put(bucket, "rooms/secret/audio.ogg", SENTINEL)
    s3_server.put(bucket, "rooms/call-1/audio.ogg", b"OggS real audio")
    app = make_app(**s3_server.env(bucket), RECORDING_PREFIX="rooms/eu")
    paths = malicious_paths()
    with FakeServer(app) as server:
        assert_all_refused(server.port, paths)
        assert [r for r in s3_server.requests_to(bucket) if r[0] in ("GET", "HEAD")] == []

        assert raw_get(server.port, "/recording/call-1")[0] == 404  # rooms/eu/call-1: the log does see reads
    assert [r for r in s3_server.requests_to(bucket) if r[0] in ("GET", "HEAD")] == [
        ("GET", f"/{bucket}/rooms/eu/call-1/audio.ogg")
    ]
    assert len(paths) > 450


def test_malicious_ids_never_reach_the_recording_directory(make_app, tmp_path):
    root = tmp_path / "storage"
    (root / "recordings" / "rooms").mkdir(parents=True)
    for folder in (root / "secret", root / "recordings" / "secret", tmp_path / "secret"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "audio.ogg").write_bytes(SENTINEL)
    (root / "recordings" / "rooms" / "call-1").mkdir()
    (root / "recordings" / "rooms" / "call-1" / "audio.ogg").write_bytes(b"OggS real audio")
    app = make_app(RECORDING_BACKEND="file", RECORDING_PATH=str(root / "recordings"), RECORDING_PREFIX="rooms")
    with FakeServer(app) as server:
        assert_all_refused(server.port, malicious_paths())
        assert raw_get(server.port, "/recording/call-1") == (200, b"OggS real audio")


def test_refusals_do_not_depend_on_storage_being_configured(make_app):
    with FakeServer(make_app(RECORDING_BACKEND="none")) as server:
        assert_all_refused(server.port, ["/recording/..", "/recording/a%2Fb", "/recording/%00"])
