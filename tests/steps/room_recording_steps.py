"""Sentences about recording a LiveKit room through the API: the fake LiveKit's Egress service records,
and on stop uploads its Ogg into the storage the recording steps set up (moto's S3 or the fake GCS)."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

from pytest_bdd import given, parsers, then, when

from tests.steps.livekit_steps import send, token_of


def _recording_path(room: str) -> str:
    return f"/livekit/rooms/{quote(room, safe='')}/recording"


def _start(world, livekit, room: str, stream_id: str | None, tenant: str | None):
    if world.env.get("RECORDING_BACKEND") == "gcs":
        # the egress host reaches the same GCS as we do (its STORAGE_EMULATOR_HOST, in production Google's)
        livekit.egress.gcs_endpoint = world.env["RECORDING_GCS_ENDPOINT"]
    body = json.dumps({"stream_id": stream_id} if stream_id is not None else {})
    return send(world, "POST", _recording_path(room), body, tenant)


def _answered(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.get_json()


# --- Given -----------------------------------------------------------------------------------------


@given(parsers.parse('tenant "{tenant}" is recording room "{room}" as the stream "{stream_id}"'))
def tenant_is_recording(world, livekit, tenant, room, stream_id):
    _answered(_start(world, livekit, room, stream_id, tenant))


@given(parsers.parse('tenant "{tenant}" has recorded room "{room}" as the stream "{stream_id}"'))
def tenant_has_recorded(world, livekit, tenant, room, stream_id):
    _answered(_start(world, livekit, room, stream_id, tenant))
    assert _answered(send(world, "DELETE", _recording_path(room), None, tenant))["status"] == "ending"


@given(parsers.parse('tenant "{tenant}" tried to record room "{room}" as the stream "{stream_id}"'))
def tenant_tried_to_record(world, livekit, tenant, room, stream_id):
    assert _start(world, livekit, room, stream_id, tenant).status_code >= 400


@given("LiveKit has egress workers again")
def egress_back(livekit):
    livekit.recover("StartRoomCompositeEgress")


@given(parsers.parse('LiveKit\'s upload of the recording will fail with "{error}"'))
def upload_fails(livekit, error):
    livekit.egress.fail_uploads = error


# --- When ------------------------------------------------------------------------------------------


@when(parsers.parse('tenant "{tenant}" starts recording room "{room}" as the stream "{stream_id}"'))
def tenant_starts(world, livekit, tenant, room, stream_id):
    _start(world, livekit, room, stream_id, tenant)


@when(parsers.parse('tenant "{tenant}" starts recording room "{room}"'))
def tenant_starts_unnamed(world, livekit, tenant, room):
    _start(world, livekit, room, None, tenant)


@when(parsers.parse('I start recording room "{room}" as the stream "{stream_id}"'))
def anybody_starts(world, livekit, room, stream_id):
    _start(world, livekit, room, stream_id, None)


@when(parsers.parse('tenant "{tenant}" stops recording room "{room}"'))
def tenant_stops(world, tenant, room):
    send(world, "DELETE", _recording_path(room), None, tenant)


@when(parsers.parse('tenant "{tenant}" asks how the recording of room "{room}" is going'))
def tenant_asks(world, tenant, room):
    send(world, "GET", _recording_path(room), None, tenant)


# --- Then ------------------------------------------------------------------------------------------


@then(parsers.parse('the recording of room "{room}" is "{status}" as the stream "{stream_id}"'))
def recording_is(world, room, status, stream_id):
    body = _answered(world.response)
    assert (body["room_name"], body["stream_id"], body["status"]) == (room, stream_id, status), body
    assert body["egress_id"].startswith("EG_") and body["recording_url"] == f"/recording/{quote(stream_id, safe='')}"


@then(parsers.parse('the recording of room "{room}" by tenant "{tenant}" is still "{status}"'))
def recording_still(world, room, tenant, status):
    assert _answered(send(world, "GET", _recording_path(room), None, tenant))["status"] == status


@then(
    parsers.parse('tenant "{tenant}" downloads the recording "{stream_id}" and receives the Ogg audio LiveKit recorded')
)
def download_recorded(world, livekit, tenant, stream_id):
    response = world.request(
        "GET", f"/recording/{quote(stream_id)}", headers={"Authorization": f"Bearer {token_of(world, tenant)}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "audio/ogg"
    assert response.get_data() == livekit.egress.recorded_audio and response.get_data().startswith(b"OggS")


@then(parsers.parse('LiveKit was asked to record room "{room}" as audio-only Ogg at "{path}"'))
def livekit_asked(livekit, room, path):
    [call] = livekit.calls_to("StartRoomCompositeEgress")
    request = call.request
    assert (request["room_name"], request.get("audio_only")) == (room, True), request
    [output] = request["file_outputs"]
    assert (output.get("file_type"), output["filepath"]) == ("OGG", path), output
    assert call.claims["video"].get("roomRecord") is True


def _s3_upload(livekit) -> dict:
    [call] = livekit.calls_to("StartRoomCompositeEgress")
    return call.request["file_outputs"][0]["s3"]


@then(parsers.parse('LiveKit uploads the recording to the S3 bucket as belonging to tenant "{tenant}"'))
def uploads_owned(livekit, shelf, tenant):
    upload = _s3_upload(livekit)
    assert (upload["bucket"], upload["endpoint"]) == (shelf.bucket, shelf.store.url), upload
    assert upload["metadata"] == {"auth_id": tenant}


@then("LiveKit uploads the recording to the S3 bucket without an owner")
def uploads_unowned(livekit, shelf):
    upload = _s3_upload(livekit)
    assert upload["bucket"] == shelf.bucket and not upload.get("metadata"), upload


@then("LiveKit was not asked to record any room")
def livekit_not_asked(livekit):
    assert livekit.calls_to("StartRoomCompositeEgress") == []


@then("the recording's stream id is a new UUID")
def stream_id_is_uuid(world):
    assert uuid.UUID(world.response.get_json()["stream_id"]).version == 4


@then(parsers.parse('the recording can be downloaded at its "recording_url" once stopped'))
def downloadable_once_stopped(world, livekit):
    body = world.response.get_json()
    _answered(send(world, "DELETE", _recording_path(body["room_name"]), None, "acme"))
    response = world.request(
        "GET", body["recording_url"], headers={"Authorization": f"Bearer {token_of(world, 'acme')}"}
    )
    assert response.status_code == 200 and response.get_data() == livekit.egress.recorded_audio
