"""Room recordings without HTTP on our side: LiveKitClient's egress calls (both Twirp encodings) and
RoomRecorder against the fake LiveKit and a real S3 server."""

from __future__ import annotations

import pytest
from livekit.protocol import egress as proto_egress

from app.errors import NotFound
from app.services.livekit import LiveKit, LiveKitClient, LiveKitError
from app.services.livekit.recorder import RoomRecorder
from app.services.recordings import Recordings
from app.settings import Settings
from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET
from tests.fakes.s3 import s3_server  # noqa: F401 - fixture


@pytest.fixture(params=["protobuf", "json"])
def client(livekit, request):
    client = LiveKitClient(livekit.url, TEST_API_KEY, TEST_API_SECRET, timeout=5, encoding=request.param)
    yield client
    client.close()


def audio_egress(room: str, filepath: str) -> proto_egress.RoomCompositeEgressRequest:
    return proto_egress.RoomCompositeEgressRequest(
        room_name=room,
        audio_only=True,
        file_outputs=[proto_egress.EncodedFileOutput(file_type=proto_egress.EncodedFileType.OGG, filepath=filepath)],
    )


def test_egress_round_trip(client, livekit):
    livekit.add_room("call-1")
    started = client.start_room_composite_egress(audio_egress("call-1", "x/audio.ogg"))
    assert started.egress_id.startswith("EG_") and started.status == proto_egress.EGRESS_STARTING
    assert [e.egress_id for e in client.list_egress("call-1", active=True)] == [started.egress_id]
    assert client.list_egress("call-2") == []
    stopped = client.stop_egress(started.egress_id)
    assert stopped.status == proto_egress.EGRESS_ENDING
    assert client.list_egress("call-1", active=True) == []
    [ended] = client.list_egress("call-1")
    assert ended.status == proto_egress.EGRESS_FAILED  # no upload target: the egress had nowhere to write
    assert {call.claims["video"].get("roomRecord") for call in livekit.calls} == {True}


def test_egress_errors_are_livekits(client, livekit):
    with pytest.raises(LiveKitError) as missing_room:
        client.start_room_composite_egress(audio_egress("nowhere", "x/audio.ogg"))
    assert missing_room.value.not_found
    with pytest.raises(LiveKitError) as missing_egress:
        client.stop_egress("EG_unknown")
    assert missing_egress.value.not_found


@pytest.fixture
def recorder(livekit, s3_server, database):  # noqa: F811
    bucket = s3_server.new_bucket()
    settings = Settings.from_env(
        {
            **s3_server.env(bucket),
            "RECORDING_PREFIX": "rooms",
            "LIVEKIT_URL": livekit.url,
            "LIVEKIT_API_KEY": TEST_API_KEY,
            "LIVEKIT_API_SECRET": TEST_API_SECRET,
        }
    )
    lk, recordings = LiveKit(settings.livekit, database), Recordings.from_settings(settings.recording)
    yield RoomRecorder(lk.rooms, settings.recording, recordings)
    lk.close()
    recordings.close()


def test_egresses_not_written_at_our_key_are_not_our_recordings(recorder, livekit):
    livekit.add_room("call-1")
    livekit.egress.add("call-1", "elsewhere/call-1.ogg")  # someone else's egress of the same room
    livekit.egress.add("call-1", "other-prefix/s-1/audio.ogg")
    with pytest.raises(NotFound) as caught:
        recorder.status(None, "call-1")
    assert caught.value.code == "recording_not_found"
    started = recorder.start(None, "call-1", "s-2")  # and they do not count as a recording in progress
    assert (started.stream_id, started.status) == ("s-2", "starting")


def test_the_recording_in_progress_is_shown_before_older_ones(recorder, livekit):
    livekit.add_room("call-1")
    recorder.start(None, "call-1", "first")
    recorder.stop(None, "call-1")
    recorder.start(None, "call-1", "second")
    current = recorder.status(None, "call-1")
    assert (current.stream_id, current.status) == ("second", "active")
    assert current.started_at is not None and current.ended_at is None
    recorder.stop(None, "call-1")
    assert recorder.status(None, "call-1").status == "complete"
