"""Steps of features/recording.feature: recordings written straight into a real S3 server (moto over
HTTP), a fake GCS server or a local directory, at the documented key, then downloaded through the API."""

from __future__ import annotations

import json
import random
from urllib.parse import quote

import pytest
from pytest_bdd import given, parsers, then, when

from tests.fakes.gcs import GcsServer
from tests.fakes.s3 import refusing_s3_app
from tests.fakes.server import FakeServer, unused_port_url


class RecordingShelf:
    """Where this scenario's recordings are kept, and what was put there."""

    def __init__(self):
        self.kind: str | None = None
        self.store = None  # the S3 or GCS server
        self.bucket: str | None = None
        self.directory = None
        self.prefix = ""
        self.stored: dict[str, bytes] = {}
        self.etag: str | None = None

    def put(self, stream_id: str, data: bytes, owner: str | None = None) -> None:
        key = f"{self.prefix}/{stream_id}/audio.ogg" if self.prefix else f"{stream_id}/audio.ogg"
        if self.kind in ("s3", "gcs"):
            self.store.put(self.bucket, key, data, owner)
        else:
            path = self.directory / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if owner:
                path.with_name("audio.ogg.metadata.json").write_text(json.dumps({"auth_id": owner}))
        self.stored[stream_id] = data


@pytest.fixture
def shelf():
    return RecordingShelf()


def _audio(stream_id: str, size: int) -> bytes:
    return (b"OggS" + random.Random(stream_id).randbytes(size))[:size]


# --- Given -----------------------------------------------------------------------------------------


@given(parsers.parse("recordings are kept in {storage}"))
def recordings_kept_in(world, shelf, s3_server, gcs_server, storage):
    shelf.prefix = world.env.get("RECORDING_PREFIX", "").strip("/")
    if storage == "an S3 bucket":
        shelf.kind, shelf.store, shelf.bucket = "s3", s3_server, s3_server.new_bucket()
        env = s3_server.env(shelf.bucket)
    elif storage == "an S3 store that cannot be reached":
        env = s3_server.env("recordings", endpoint=unused_port_url())
    elif storage == "an S3 store that refuses access":
        env = s3_server.env("recordings", endpoint=world.start_fake("s3", FakeServer(refusing_s3_app)).url)
    elif storage == "a GCS bucket":
        shelf.kind, shelf.store, shelf.bucket = "gcs", gcs_server, gcs_server.new_bucket()
        env = gcs_server.env(shelf.bucket)
    elif storage == "a GCS store that cannot be reached":
        env = gcs_server.env("recordings", endpoint=unused_port_url())
    elif storage == "a GCS store that refuses access":
        # a key the store does not know: its tokens are refused
        stranger = world.start_fake("gcs-stranger", GcsServer())
        env = {**stranger.env("recordings"), "RECORDING_GCS_ENDPOINT": gcs_server.url}
    elif storage == "a local directory":
        shelf.kind, shelf.directory = "file", world.tmp_path / "recordings"
        env = {"RECORDING_BACKEND": "file", "RECORDING_PATH": str(shelf.directory)}
    elif storage == "a local directory that is not available":
        blocker = world.tmp_path / "unmounted"
        blocker.write_bytes(b"")  # a plain file where the directory should be
        env = {"RECORDING_BACKEND": "file", "RECORDING_PATH": str(blocker)}
    else:
        raise ValueError(f"unknown storage: {storage}")
    for name, value in env.items():
        world.set(name, value)


@given(parsers.parse('the recording "{stream_id}" holds {size:d} bytes of audio'))
def recording_stored(shelf, stream_id, size):
    shelf.put(stream_id, _audio(stream_id, size))


@given(parsers.parse('the recording "{stream_id}" holds {size:d} bytes of audio and belongs to tenant "{tenant}"'))
def owned_recording_stored(shelf, stream_id, size, tenant):
    shelf.put(stream_id, _audio(stream_id, size), owner=tenant)


@given(parsers.parse('I downloaded the recording "{stream_id}" once'))
def downloaded_once(world, shelf, stream_id):
    response = world.request("GET", f"/recording/{quote(stream_id)}")
    assert response.status_code == 200, response.get_data(as_text=True)
    shelf.etag = response.headers["ETag"]


# --- When ------------------------------------------------------------------------------------------


@when(parsers.parse('I download the recording "{stream_id}"'))
def download(world, stream_id):
    world.request("GET", f"/recording/{quote(stream_id)}")


@when(parsers.parse('I download the recording "{stream_id}" with the token "{token}"'))
def download_with_token(world, stream_id, token):
    world.request("GET", f"/recording/{quote(stream_id)}", headers={"Authorization": f"Bearer {token}"})


@when(parsers.parse("I download a recording whose id is {length:d} characters long"))
def download_long_id(world, length):
    world.request("GET", "/recording/" + "x" * length)


@when(parsers.parse('I ask for the size of the recording "{stream_id}"'))
def ask_size(world, stream_id):
    world.request("HEAD", f"/recording/{quote(stream_id)}")


@when(parsers.parse('a player asks for the bytes "{span}" of the recording "{stream_id}"'))
def ask_range(world, span, stream_id):
    world.request("GET", f"/recording/{quote(stream_id)}", headers={"Range": f"bytes={span}"})


@when(parsers.parse('I download the recording "{stream_id}" again, presenting the ETag I received'))
def download_again(world, shelf, stream_id):
    world.request("GET", f"/recording/{quote(stream_id)}", headers={"If-None-Match": shelf.etag})


@when(parsers.parse('a player resumes the bytes "{span}" of the recording "{stream_id}" from the copy I received'))
def resume_current(world, shelf, span, stream_id):
    world.request("GET", f"/recording/{quote(stream_id)}", headers={"Range": f"bytes={span}", "If-Range": shelf.etag})


@when(
    parsers.parse(
        'a player resumes the bytes "{span}" of the recording "{stream_id}" from a copy with the ETag "{etag}"'
    )
)
def resume_outdated(world, span, stream_id, etag):
    world.request("GET", f"/recording/{quote(stream_id)}", headers={"Range": f"bytes={span}", "If-Range": f'"{etag}"'})


# --- Then ------------------------------------------------------------------------------------------


@then(parsers.parse('I receive the {size:d} bytes of the recording "{stream_id}" as "{filename}"'))
def receive_recording(world, shelf, size, stream_id, filename):
    response = world.response
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "audio/ogg"
    assert response.headers["Content-Length"] == str(size)
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.get_data() == shelf.stored[stream_id]


@then(parsers.parse('the player receives bytes {first:d} to {last:d} of the recording "{stream_id}"'))
def receive_part(world, shelf, first, last, stream_id):
    response = world.response
    stored = shelf.stored[stream_id]
    assert response.status_code == 206, response.get_data(as_text=True)
    assert response.headers["Content-Range"] == f"bytes {first}-{last}/{len(stored)}"
    assert response.headers["Content-Length"] == str(last - first + 1)
    assert response.headers["Content-Type"] == "audio/ogg"
    assert response.get_data() == stored[first : last + 1]


@then(parsers.parse("the player is told the recording has {size:d} bytes"))
def told_size_on_416(world, size):
    assert world.response.headers["Content-Range"] == f"bytes */{size}"


@then(parsers.parse("I am told the recording has {size:d} bytes, without the audio"))
def told_size(world, size):
    response = world.response
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Length"] == str(size)
    assert response.headers["Content-Type"] == "audio/ogg"
    assert response.headers["ETag"]
    assert response.get_data() == b""


@then("no audio is sent")
def no_audio(world, shelf):
    assert world.response.get_data() == b""
    assert world.response.headers["ETag"] == shelf.etag


@then("the storage was not asked for any recording")
def storage_not_asked(shelf):
    reads = [r for r in shelf.store.requests_to(shelf.bucket) if r[0] in ("GET", "HEAD")]
    assert reads == [], reads
