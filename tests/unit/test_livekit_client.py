"""LiveKitClient against the livekit LiveKit server over real HTTP, in both of Twirp's encodings."""

from __future__ import annotations

import pytest
import requests
from livekit.api import AccessToken, VideoGrants
from livekit.protocol import sip as proto_sip

from app.services.livekit import LiveKitClient, LiveKitError, LiveKitUnreachable
from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET
from tests.fakes.server import unused_port_url

KEY, SECRET = TEST_API_KEY, TEST_API_SECRET


@pytest.fixture(params=["protobuf", "json"])
def client(livekit, request):
    client = LiveKitClient(livekit.url, KEY, SECRET, timeout=5, encoding=request.param)
    yield client
    client.close()


def test_rooms_round_trip(client, livekit):
    created = client.create_room("call-1", max_participants=3, metadata='{"auth_id":"acme"}')
    assert created.sid.startswith("RM_") and created.max_participants == 3
    client.create_room("call-2")
    assert sorted(room.name for room in client.list_rooms()) == ["call-1", "call-2"]
    found = client.find_room("call-1")
    assert found.metadata == '{"auth_id":"acme"}' and found.creation_time > 1_700_000_000
    assert client.find_room("missing") is None
    assert livekit.calls[0].content_type == f"application/{client.encoding}"


def test_create_room_returns_an_existing_room_unchanged(client):
    client.create_room("call-1", metadata='{"auth_id":"acme"}')
    again = client.create_room("call-1", metadata='{"auth_id":"globex"}')
    assert again.metadata == '{"auth_id":"acme"}'


def test_participants_are_listed_removed_and_muted(client, livekit):
    livekit.add_participant("call-1", "alex", name="Alex", tracks=("TR_mic",))
    livekit.add_participant("call-1", "bot", kind="AGENT")
    assert {p.identity for p in client.list_participants("call-1")} == {"alex", "bot"}
    track = client.mute_published_track("call-1", "alex", "TR_mic", True)
    assert track.sid == "TR_mic" and track.muted is True
    client.remove_participant("call-1", "bot")
    assert set(livekit.participants["call-1"]) == {"alex"}


def test_room_metadata_is_updated(client, livekit):
    livekit.add_room("call-1")
    room = client.update_room_metadata("call-1", '{"auth_id":"acme"}')
    assert room.metadata == '{"auth_id":"acme"}' == livekit.rooms["call-1"].metadata


def test_twirp_not_found_becomes_a_livekit_error(client):
    with pytest.raises(LiveKitError) as caught:
        client.update_room_metadata("missing", "{}")
    error = caught.value
    assert (error.twirp_code, error.http_status, error.not_found) == ("not_found", 404, True)
    assert "requested room does not exist" in error.message and error.status == 500


def test_twirp_error_meta_is_kept(client, livekit):
    livekit.fail("CreateSIPParticipant", "resource_exhausted", "sip status 486: Busy Here", sip_status_code="486")
    with pytest.raises(LiveKitError) as caught:
        client.create_sip_participant(
            proto_sip.CreateSIPParticipantRequest(sip_trunk_id="ST_1", sip_call_to="+15551234567", room_name="r")
        )
    assert caught.value.twirp_code == "resource_exhausted" and caught.value.http_status == 429
    assert caught.value.meta == {"sip_status_code": "486"}


def test_each_call_carries_exactly_the_grants_livekit_checks(client, livekit):
    livekit.add_participant("call-1", "alex", tracks=("TR_mic",))
    livekit.add_participant("call-1", "phone", kind="SIP")
    client.create_room("call-2")
    client.list_rooms()
    client.list_participants("call-1")
    client.mute_published_track("call-1", "alex", "TR_mic", False)
    client.create_sip_participant(
        proto_sip.CreateSIPParticipantRequest(
            sip_trunk_id="ST_1", sip_call_to="+15551234567", room_name="call-1", participant_identity="p2"
        )
    )
    client.transfer_sip_participant("call-1", "phone", "tel:+15550000000")
    grants = {
        call.method: (
            {k: v for k, v in call.claims.get("video", {}).items() if k.startswith("room") and v},
            call.claims.get("sip"),
        )
        for call in livekit.calls
    }
    assert grants == {
        "CreateRoom": ({"roomCreate": True}, None),
        "ListRooms": ({"roomList": True}, None),
        "ListParticipants": ({"roomAdmin": True, "room": "call-1"}, None),
        "MutePublishedTrack": ({"roomAdmin": True, "room": "call-1"}, None),
        "CreateSIPParticipant": ({}, {"admin": False, "call": True}),
        "TransferSIPParticipant": ({"roomAdmin": True, "room": "call-1"}, {"admin": False, "call": True}),
    }
    for call in livekit.calls:
        assert call.claims["iss"] == KEY and call.claims["exp"] - call.claims["nbf"] == 600


def test_a_token_signed_with_another_secret_is_refused(livekit):
    client = LiveKitClient(livekit.url, KEY, "another-secret-that-is-also-32-bytes-long", timeout=5)
    with pytest.raises(LiveKitError) as caught:
        client.list_rooms()
    assert (caught.value.twirp_code, caught.value.http_status) == ("unauthenticated", 401)
    assert "invalid authorization token" in caught.value.message


def test_unreachable_livekit():
    client = LiveKitClient(unused_port_url(), KEY, SECRET, timeout=2)
    with pytest.raises(LiveKitUnreachable) as caught:
        client.list_rooms()
    assert caught.value.timed_out is False and caught.value.code == "livekit_unreachable"


def test_a_slow_answer_is_a_timeout(client, livekit):
    livekit.delay("ListRooms", 1.0)
    client.timeout = 0.3
    with pytest.raises(LiveKitUnreachable) as caught:
        client.list_rooms()
    assert caught.value.timed_out is True


def test_sip_participant_with_a_per_call_trunk(client, livekit):
    info = client.create_sip_participant(
        proto_sip.CreateSIPParticipantRequest(
            trunk=proto_sip.SIPOutboundConfig(hostname="sip.example.com", auth_username="u", auth_password="p"),
            sip_number="+15105550123",
            sip_call_to="+15551234567",
            room_name="call-1",
            participant_identity="phone-1",
        )
    )
    assert info.participant_id.startswith("PA_") and info.sip_call_id.startswith("SCL_")
    assert info.participant_identity == "phone-1" and info.room_name == "call-1"
    assert livekit.sip_calls[0].trunk.hostname == "sip.example.com"
    assert livekit.participants["call-1"]["phone-1"].kind == 3  # SIP


# --- the livekit's own fidelity ---------------------------------------------------------------------


def test_fake_answers_json_with_livekit_field_names_and_int64_strings(livekit):
    livekit.add_room("call-1")
    token = AccessToken(KEY, SECRET).with_grants(VideoGrants(room_list=True)).to_jwt()
    response = requests.post(
        f"{livekit.url}/twirp/livekit.RoomService/ListRooms",
        json={"names": ["call-1"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    room = response.json()["rooms"][0]
    assert isinstance(room["creation_time"], str) and room["num_participants"] == 0 and room["metadata"] == ""


def test_fake_refuses_what_livekit_refuses(livekit):
    url = f"{livekit.url}/twirp/livekit.RoomService/UpdateRoomMetadata"
    other_room = AccessToken(KEY, SECRET).with_grants(VideoGrants(room_admin=True, room="other")).to_jwt()
    denied = requests.post(url, json={"room": "call-1"}, headers={"Authorization": f"Bearer {other_room}"}, timeout=5)
    assert (denied.status_code, denied.json()) == (401, {"code": "unauthenticated", "msg": "permissions denied"})
    assert (
        requests.post(url, json={}, headers={"Authorization": "Bearer nonsense"}, timeout=5).text
        == "invalid authorization token"
    )
    plain = requests.post(
        url, data="x", headers={"Authorization": f"Bearer {other_room}", "Content-Type": "text/plain"}, timeout=5
    )
    assert (plain.status_code, plain.json()["code"]) == (404, "bad_route")
    assert requests.get(url, timeout=5).json()["code"] == "bad_route"
