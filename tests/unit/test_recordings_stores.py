"""Every storage backend behind the same service, against a real S3 server (moto over HTTP), a fake GCS
JSON API server and a temp directory. Objects are written independently of our code, at the documented key."""

import json
import os
import time

import pytest

from app.errors import RangeNotSatisfiable
from app.services.recordings import (
    ByteRange,
    DownloadRequest,
    RecordingNotFound,
    Recordings,
    StorageNotConfigured,
    StorageUnavailable,
)
from app.services.recordings.file_store import FileRecordingStore
from app.services.recordings.s3_store import S3RecordingStore
from app.settings import Settings
from tests.fakes.gcs import gcs_server  # noqa: F401 - fixture
from tests.fakes.s3 import refusing_s3_app, s3_server  # noqa: F401 - fixture
from tests.fakes.server import FakeServer, unused_port_url
from tests.resources import linux_only, open_connections_to, open_files_named

AUDIO = bytes(range(256)) * 40  # 10 240 bytes


class S3Backend:
    def __init__(self, server, prefix):
        self.server, self.prefix = server, prefix
        self.bucket = server.new_bucket()
        env = {**server.env(self.bucket), "RECORDING_PREFIX": prefix}
        self.recordings = Recordings(S3RecordingStore(Settings.from_env(env).recording))

    def held_open(self, stream_id):
        return open_connections_to(int(self.server.url.rsplit(":", 1)[1]))

    def put(self, stream_id, data, owner=None):
        key = f"{self.prefix}/{stream_id}/audio.ogg" if self.prefix else f"{stream_id}/audio.ogg"
        self.server.put(self.bucket, key, data, owner)


class GcsBackend:
    def __init__(self, server, prefix):
        self.server, self.prefix = server, prefix
        self.bucket = server.new_bucket()
        env = {**server.env(self.bucket), "RECORDING_PREFIX": prefix}
        self.recordings = Recordings.from_settings(Settings.from_env(env).recording)

    def held_open(self, stream_id):
        return open_connections_to(int(self.server.url.rsplit(":", 1)[1]))

    def put(self, stream_id, data, owner=None):
        key = f"{self.prefix}/{stream_id}/audio.ogg" if self.prefix else f"{stream_id}/audio.ogg"
        self.server.put(self.bucket, key, data, owner)


class FileBackend:
    def __init__(self, root, prefix):
        self.root, self.prefix = root, prefix
        self.recordings = Recordings(FileRecordingStore(root, prefix))

    def folder(self, stream_id):
        return self.root / self.prefix / stream_id if self.prefix else self.root / stream_id

    def held_open(self, stream_id):
        return open_files_named(self.folder(stream_id) / "audio.ogg")

    def put(self, stream_id, data, owner=None):
        folder = self.folder(stream_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "audio.ogg").write_bytes(data)
        if owner:
            (folder / "audio.ogg.metadata.json").write_text(json.dumps({"auth_id": owner}))


@pytest.fixture(params=["s3", "gcs", "file"])
def backend(request, s3_server, gcs_server, tmp_path):  # noqa: F811
    prefix = "rooms/eu"
    if request.param == "s3":
        backend = S3Backend(s3_server, prefix)
    elif request.param == "gcs":
        backend = GcsBackend(gcs_server, prefix)
    else:
        backend = FileBackend(tmp_path / "recordings", prefix)
    yield backend
    backend.recordings.close()


def read_all(download):
    return b"".join(download.body)


def test_a_recording_is_streamed_whole(backend):
    backend.put("call-1", AUDIO)
    download = backend.recordings.download("call-1", tenant=None)
    assert (download.status, download.content_length, download.info.size) == (200, len(AUDIO), len(AUDIO))
    assert download.info.etag.startswith('"') and download.info.last_modified is not None
    assert read_all(download) == AUDIO


def test_a_range_is_read_from_the_store_not_skipped_to(backend):
    backend.put("call-1", AUDIO)
    download = backend.recordings.download("call-1", tenant=None, request=DownloadRequest(range="bytes=5000-5099"))
    assert (download.status, download.byte_range) == (206, ByteRange(5000, 5099))
    assert read_all(download) == AUDIO[5000:5100]


def test_an_unsatisfiable_range_is_416(backend):
    backend.put("call-1", AUDIO)
    with pytest.raises(RangeNotSatisfiable):
        backend.recordings.download("call-1", tenant=None, request=DownloadRequest(range="bytes=20000-"))


def test_head_and_304_open_no_body(backend):
    backend.put("call-1", AUDIO)
    head = backend.recordings.download("call-1", tenant=None, request=DownloadRequest(method="HEAD"))
    assert (head.status, head.body, head.content_length) == (200, None, len(AUDIO))
    again = backend.recordings.download("call-1", tenant=None, request=DownloadRequest(if_none_match=head.info.etag))
    assert (again.status, again.body) == (304, None)


def test_a_missing_recording_is_not_found(backend):
    with pytest.raises(RecordingNotFound) as caught:
        backend.recordings.download("nobody", tenant=None)
    assert caught.value.status == 404 and caught.value.code == "recording_not_found"


def test_the_prefix_is_part_of_the_key(backend):
    backend.prefix = ""
    backend.put("call-1", AUDIO)  # stored without the prefix: not where the service looks
    with pytest.raises(RecordingNotFound):
        backend.recordings.download("call-1", tenant=None)


def test_an_owned_recording_is_only_visible_to_its_tenant(backend):
    backend.put("call-1", AUDIO, owner="acme")
    assert read_all(backend.recordings.download("call-1", tenant="acme")) == AUDIO
    with pytest.raises(RecordingNotFound) as caught:
        backend.recordings.download("call-1", tenant="globex")
    assert caught.value.message == "Recording not found: call-1"  # the same answer as for a missing one
    with pytest.raises(RecordingNotFound):  # no 304 either: existence is not disclosed
        backend.recordings.download("call-1", tenant="globex", request=DownloadRequest(if_none_match="*"))
    assert read_all(backend.recordings.download("call-1", tenant=None)) == AUDIO  # auth off: no isolation


def test_an_ownerless_recording_is_visible_to_every_tenant(backend):
    backend.put("call-1", AUDIO)
    assert read_all(backend.recordings.download("call-1", tenant="globex")) == AUDIO


@linux_only
def test_closing_an_unread_body_releases_its_connection_or_file(backend):
    backend.put("call-1", AUDIO)
    idle = backend.held_open("call-1")  # pooled connections other requests left open stay open
    download = backend.recordings.download("call-1", tenant=None)
    # the body holds a connection or file (GCS's describe request may briefly hold one more)
    assert backend.held_open("call-1") > idle
    download.body.close()  # what the WSGI server does when the client hangs up before the first byte
    assert backend.held_open("call-1") <= idle


def test_no_backend_is_not_configured():
    recordings = Recordings.from_settings(Settings.from_env({"RECORDING_BACKEND": "none"}).recording)
    with pytest.raises(StorageNotConfigured) as caught:
        recordings.download("call-1", tenant=None)
    assert (caught.value.status, caught.value.code) == (503, "storage_not_configured")


def test_an_s3_store_that_cannot_be_reached_is_unavailable_quickly(s3_server):  # noqa: F811
    settings = Settings.from_env(s3_server.env("recordings", endpoint=unused_port_url())).recording
    recordings = Recordings.from_settings(settings)
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        recordings.download("call-1", tenant=None)
    assert (caught.value.status, caught.value.code) == (503, "storage_unavailable")
    assert time.monotonic() - started < 5
    assert "test-secret-key" not in caught.value.message


def test_an_s3_store_that_refuses_access_is_unavailable(s3_server):  # noqa: F811
    with FakeServer(refusing_s3_app) as refusing:
        recordings = Recordings.from_settings(
            Settings.from_env(s3_server.env("recordings", endpoint=refusing.url)).recording
        )
        with pytest.raises(StorageUnavailable):
            recordings.download("call-1", tenant=None)


def test_an_s3_object_replaced_between_head_and_get_is_described_again(s3_server):  # noqa: F811
    backend = S3Backend(s3_server, "")
    backend.put("call-1", b"old" * 100)

    class ReplacingStore(S3RecordingStore):
        """Replaces the object once, right after the first HEAD: the race the service must survive."""

        replaced = False

        def describe(self, stream_id):
            info = super().describe(stream_id)
            if not self.replaced:
                self.replaced = True
                backend.put("call-1", b"new" * 200)
            return info

    recordings = Recordings(ReplacingStore(Settings.from_env(s3_server.env(backend.bucket)).recording))
    download = recordings.download("call-1", tenant=None, request=DownloadRequest(range="bytes=0-"))
    assert read_all(download) == b"new" * 200 and download.info.size == 600


def test_a_plain_s3_download_is_a_single_request(s3_server):  # noqa: F811
    backend = S3Backend(s3_server, "rooms")
    backend.put("call-1", AUDIO, owner="acme")
    assert read_all(backend.recordings.download("call-1", tenant="acme")) == AUDIO
    with pytest.raises(RecordingNotFound):
        backend.recordings.download("call-1", tenant="globex")
    reads = [r for r in s3_server.requests_to(backend.bucket) if r[0] in ("GET", "HEAD")]
    assert reads == [("GET", f"/{backend.bucket}/rooms/call-1/audio.ogg")] * 2


def test_a_file_replaced_between_stat_and_open_is_described_again(tmp_path):
    backend = FileBackend(tmp_path, "")
    backend.put("call-1", b"old")

    class ReplacingStore(FileRecordingStore):
        replaced = False

        def describe(self, stream_id):
            info = super().describe(stream_id)
            if not self.replaced:
                self.replaced = True
                replacement = tmp_path / "call-1" / "tmp"
                replacement.write_bytes(b"brand new")
                os.replace(replacement, tmp_path / "call-1" / "audio.ogg")
            return info

    download = Recordings(ReplacingStore(tmp_path)).download("call-1", tenant=None)
    assert read_all(download) == b"brand new"


def test_a_missing_recording_directory_is_unavailable(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    with pytest.raises(StorageUnavailable):
        Recordings(FileRecordingStore(blocker)).download("call-1", tenant=None)


def test_the_default_recording_directory_is_created(tmp_path):
    Recordings.from_settings(Settings.from_env({"DATA_DIR": str(tmp_path)}).recording)
    assert (tmp_path / "recordings").is_dir()


def test_a_symlink_out_of_the_recording_directory_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    (outside / "secret").mkdir(parents=True)
    (outside / "secret" / "audio.ogg").write_bytes(b"secret")
    root = tmp_path / "recordings"
    root.mkdir()
    (root / "call-1").symlink_to(outside / "secret")
    with pytest.raises(RecordingNotFound):
        Recordings(FileRecordingStore(root)).download("call-1", tenant=None)


def test_a_directory_in_place_of_the_recording_is_not_found(tmp_path):
    (tmp_path / "call-1" / "audio.ogg").mkdir(parents=True)
    with pytest.raises(RecordingNotFound):
        Recordings(FileRecordingStore(tmp_path)).download("call-1", tenant=None)


@pytest.mark.parametrize("sidecar", [b"not json", b'["acme"]'])
def test_an_unreadable_owner_fails_closed(tmp_path, sidecar):
    backend = FileBackend(tmp_path, "")
    backend.put("call-1", AUDIO)
    (tmp_path / "call-1" / "audio.ogg.metadata.json").write_bytes(sidecar)
    with pytest.raises(StorageUnavailable):
        backend.recordings.download("call-1", tenant="globex")


def test_a_blank_owner_means_no_owner(tmp_path):
    backend = FileBackend(tmp_path, "")
    backend.put("call-1", AUDIO, owner="  ")
    assert read_all(backend.recordings.download("call-1", tenant="globex")) == AUDIO
