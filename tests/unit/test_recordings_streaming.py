"""A download is streamed, and a client that hangs up mid-download releases the S3 or GCS connection or
the file at once (the WSGI server closes the response; the response closes the store's stream)."""

from __future__ import annotations

import os
import socket
import time

import pytest
from werkzeug.test import EnvironBuilder

from tests.fakes.gcs import gcs_server  # noqa: F401 - fixture
from tests.fakes.s3 import s3_server  # noqa: F401 - fixture
from tests.fakes.server import FakeServer
from tests.resources import linux_only, open_connections_to, open_files_named

BIG = os.urandom(1024 * 1024) * 8  # 8 MiB: more than the socket buffers between client, app and S3


def start_download_and_hang_up(port: int, path: str) -> bytes:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received or len(received) < 100_000:
        received += sock.recv(65536)
    # An abortive close (RST), as a player that is killed mid-download: the server's next write fails.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()
    return received


def wait_until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start_response(status, headers, exc_info=None):
    start_response.status = status


@linux_only
def test_closing_the_response_closes_the_s3_stream_at_once(make_app, s3_server):  # noqa: F811
    """What every WSGI server does when the client goes away: close() the response it was sending.
    The response is still referenced here, so only an explicit close can release the connection."""
    bucket = s3_server.new_bucket()
    s3_server.put(bucket, "call-big/audio.ogg", BIG)
    moto_port = int(s3_server.url.rsplit(":", 1)[1])
    app = make_app(**s3_server.env(bucket))
    response = app(EnvironBuilder(path="/recording/call-big").get_environ(), start_response)
    assert start_response.status == "200 OK"
    chunks = iter(response)  # held, as the server holds it while sending
    assert len(next(chunks)) > 0
    assert open_connections_to(moto_port) == 1
    response.close()
    assert open_connections_to(moto_port) == 0


@linux_only
def test_closing_an_unread_response_closes_the_file(make_app, tmp_path):
    recording = tmp_path / "recordings" / "call-big" / "audio.ogg"
    recording.parent.mkdir(parents=True)
    recording.write_bytes(b"OggS" * 1000)
    app = make_app(RECORDING_BACKEND="file", RECORDING_PATH=str(tmp_path / "recordings"))
    response = app(EnvironBuilder(path="/recording/call-big").get_environ(), start_response)
    assert open_files_named(recording) == 1
    response.close()  # before the first chunk: a generator that never started would not run its finally
    assert open_files_named(recording) == 0


@linux_only
def test_hanging_up_closes_the_s3_stream(make_app, s3_server):  # noqa: F811
    bucket = s3_server.new_bucket()
    s3_server.put(bucket, "call-big/audio.ogg", BIG)
    moto_port = int(s3_server.url.rsplit(":", 1)[1])
    with FakeServer(make_app(**s3_server.env(bucket))) as server:
        head = start_download_and_hang_up(server.port, "/recording/call-big")
        assert head.startswith(b"HTTP/1.1 200") and f"Content-Length: {len(BIG)}".encode() in head
        assert wait_until(lambda: open_connections_to(moto_port) == 0), "the S3 connection was left open"


def test_hanging_up_closes_the_gcs_stream(make_app, gcs_server):  # noqa: F811
    bucket = gcs_server.new_bucket()
    huge = BIG * 4  # more than the loopback socket buffers can hold: the fake is still sending when we hang up
    gcs_server.put(bucket, "call-big/audio.ogg", huge)
    cut_short = gcs_server.downloads_cut_short
    with FakeServer(make_app(**gcs_server.env(bucket))) as server:
        head = start_download_and_hang_up(server.port, "/recording/call-big")
        assert head.startswith(b"HTTP/1.1 200") and f"Content-Length: {len(huge)}".encode() in head
        assert wait_until(lambda: gcs_server.downloads_cut_short == cut_short + 1), "the GCS download was left open"


@linux_only
def test_hanging_up_closes_the_file(make_app, tmp_path):
    recording = tmp_path / "recordings" / "call-big" / "audio.ogg"
    recording.parent.mkdir(parents=True)
    recording.write_bytes(BIG)
    app = make_app(RECORDING_BACKEND="file", RECORDING_PATH=str(tmp_path / "recordings"))
    with FakeServer(app) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(b"GET /recording/call-big HTTP/1.1\r\nHost: test\r\n\r\n")
        sock.recv(65536)
        assert wait_until(lambda: open_files_named(recording) == 1), "the download should hold the file open"
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        assert wait_until(lambda: open_files_named(recording) == 0), "the file was left open"


@pytest.mark.parametrize("store", ["s3", "gcs"])
def test_a_large_download_is_complete_and_identical(make_app, s3_server, gcs_server, store):  # noqa: F811
    server = s3_server if store == "s3" else gcs_server
    bucket = server.new_bucket()
    server.put(bucket, "call-big/audio.ogg", BIG)
    with FakeServer(make_app(**server.env(bucket))) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /recording/call-big HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            data = bytearray()
            while chunk := sock.recv(1 << 20):
                data += chunk
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"Transfer-Encoding" not in head  # a real Content-Length, not chunked
    assert body == BIG
