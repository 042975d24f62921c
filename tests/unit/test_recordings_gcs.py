"""What only the GCS backend does: OAuth with the service-account key, emulators without it, a bounded
wait for a store that is down, and pinning the generation it described."""

import time

import pytest

from app.services.recordings import DownloadRequest, RecordingNotFound, Recordings, StorageUnavailable, StreamIdTaken
from app.services.recordings.gcs_store import GcsRecordingStore
from app.settings import Settings
from tests.fakes.gcs import GcsServer, gcs_server  # noqa: F401 - fixture
from tests.fakes.server import unused_port_url

AUDIO = b"OggS" + bytes(range(256)) * 20


def read_all(download):
    return b"".join(download.body)


def test_requests_carry_a_token_obtained_with_the_service_account_key(gcs_server):  # noqa: F811
    bucket = gcs_server.new_bucket()
    gcs_server.put(bucket, "call-1/audio.ogg", AUDIO)
    tokens_before = set(gcs_server.tokens)
    recordings = Recordings.from_settings(Settings.from_env(gcs_server.env(bucket)).recording)
    assert read_all(recordings.download("call-1", tenant=None)) == AUDIO
    issued = set(gcs_server.tokens) - tokens_before
    assert issued  # the fake answers 401 to a request without a token it issued
    # least privilege: downloads need only read access
    assert all(gcs_server.tokens[t] == {"https://www.googleapis.com/auth/devstorage.read_only"} for t in issued)


def test_an_emulator_is_spoken_to_without_credentials():
    with_emulator = GcsServer(anonymous=True).start()
    try:
        bucket = with_emulator.new_bucket()
        with_emulator.put(bucket, "call-1/audio.ogg", AUDIO)
        env = {**with_emulator.env(bucket), "STORAGE_EMULATOR_HOST": with_emulator.url}
        del env["RECORDING_GCS_ENDPOINT"]
        recordings = Recordings.from_settings(Settings.from_env(env).recording)
        assert read_all(recordings.download("call-1", tenant=None)) == AUDIO
        assert with_emulator.tokens == {}  # the key's token URI (this server) was never asked
    finally:
        with_emulator.stop()


def test_a_store_that_cannot_be_reached_is_unavailable_quickly(gcs_server):  # noqa: F811
    settings = Settings.from_env(gcs_server.env("recordings", endpoint=unused_port_url())).recording
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        Recordings.from_settings(settings).download("call-1", tenant=None)
    assert time.monotonic() - started < 5
    assert (caught.value.status, caught.value.code) == (503, "storage_unavailable")
    assert "PRIVATE KEY" not in caught.value.message


def test_a_store_that_refuses_our_token_is_unavailable(gcs_server):  # noqa: F811
    other = GcsServer().start()  # issues tokens gcs_server never issued
    try:
        bucket = gcs_server.new_bucket()
        gcs_server.put(bucket, "call-1/audio.ogg", AUDIO)
        env = {**other.env(bucket), "RECORDING_GCS_ENDPOINT": gcs_server.url}
        with pytest.raises(StorageUnavailable) as caught:
            Recordings.from_settings(Settings.from_env(env).recording).download("call-1", tenant=None)
        assert caught.value.message == "Failed to retrieve recording from storage"
    finally:
        other.stop()


def test_an_object_replaced_after_it_was_described_is_described_again(gcs_server):  # noqa: F811
    bucket = gcs_server.new_bucket()
    gcs_server.put(bucket, "call-1/audio.ogg", b"old" * 100)

    class ReplacingStore(GcsRecordingStore):
        replaced = False

        def describe(self, stream_id):
            info = super().describe(stream_id)
            if not self.replaced:
                self.replaced = True
                gcs_server.put(bucket, "call-1/audio.ogg", b"new" * 200)
            return info

    recordings = Recordings(ReplacingStore(Settings.from_env(gcs_server.env(bucket)).recording))
    download = recordings.download("call-1", tenant=None, request=DownloadRequest(range="bytes=0-"))
    assert read_all(download) == b"new" * 200 and download.info.size == 600


def test_the_owner_of_a_recording_started_here_is_kept_beside_it(gcs_server):  # noqa: F811
    """LiveKit's GCS upload cannot carry metadata: the owner is written first, beside the object."""
    bucket = gcs_server.new_bucket()
    recordings = Recordings.from_settings(
        Settings.from_env({**gcs_server.env(bucket), "RECORDING_PREFIX": "r"}).recording
    )
    recordings.reserve("call-1", "acme")
    with pytest.raises(StreamIdTaken):  # atomically: a second start under the same id loses
        recordings.reserve("call-1", "globex")
    gcs_server.put(bucket, "r/call-1/audio.ogg", AUDIO)  # what the egress uploads, without metadata
    assert read_all(recordings.download("call-1", tenant="acme")) == AUDIO
    with pytest.raises(RecordingNotFound):
        recordings.download("call-1", tenant="globex")


def test_an_unreadable_owner_beside_the_recording_fails_closed(gcs_server):  # noqa: F811
    bucket = gcs_server.new_bucket()
    gcs_server.put(bucket, "call-1/audio.ogg", AUDIO)
    gcs_server.put(bucket, "call-1/audio.ogg.metadata.json", b"not json")
    with pytest.raises(StorageUnavailable):
        Recordings.from_settings(Settings.from_env(gcs_server.env(bucket)).recording).download(
            "call-1", tenant="globex"
        )
