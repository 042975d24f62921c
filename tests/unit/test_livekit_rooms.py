"""Room ownership (metadata merge), tenant-owned rooms and webhook verification, without Flask."""

from __future__ import annotations

import json

import pytest
from livekit.protocol import models
from livekit.protocol.webhook import WebhookEvent

from app.errors import ApiError
from app.services.livekit import LiveKitClient, TenantRooms, WebhookVerifier
from app.services.livekit.metadata import MetadataNotAnObject, OwnedByAnotherTenant, owner_of, with_owner
from app.services.livekit.ownership import RoomOwnership
from app.settings import LiveKitSettings
from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET, sign_webhook

KEY, SECRET = TEST_API_KEY, TEST_API_SECRET


@pytest.mark.parametrize(
    "metadata, owner",
    [
        ("", None),
        ("  ", None),
        ('{"auth_id":"acme"}', "acme"),
        ('{"auth_id":7}', None),
        ("not json", None),
        ("[1,2]", None),
        ('{"topic":"sales"}', None),
    ],
)
def test_owner_of(metadata, owner):
    assert owner_of(metadata) == owner


def test_with_owner_keeps_other_keys_and_overwrites_a_non_string_owner():
    assert json.loads(with_owner('{"topic": "sales", "n": 1}', "acme")) == {"topic": "sales", "n": 1, "auth_id": "acme"}
    assert json.loads(with_owner('{"auth_id": 7}', "acme")) == {"auth_id": "acme"}
    assert with_owner("", "acme") == '{"auth_id":"acme"}'


def test_with_owner_refuses_to_clobber():
    with pytest.raises(OwnedByAnotherTenant):
        with_owner('{"auth_id": "globex"}', "acme")
    with pytest.raises(MetadataNotAnObject):
        with_owner("owner=ops", "acme")
    with pytest.raises(MetadataNotAnObject):
        with_owner('"a string"', "acme")


@pytest.fixture
def rooms(livekit, database):
    settings = LiveKitSettings(url=livekit.url, public_url="wss://rtc.example.com", api_key=KEY, api_secret=SECRET)
    client = LiveKitClient(settings.http_url, KEY, SECRET, timeout=5)
    yield TenantRooms(settings, client, RoomOwnership(database))
    client.close()


def test_claim_creates_a_missing_room_with_its_owner_in_one_call(rooms, livekit):
    rooms.claim("acme", "support-42")
    assert livekit.metadata_of("support-42") == {"auth_id": "acme"}
    assert [call.method for call in livekit.calls] == ["ListRooms", "CreateRoom"]
    assert livekit.rooms["support-42"].max_participants == 3


def test_claim_of_an_owned_room_writes_nothing(rooms, livekit):
    livekit.add_room("support-42", '{"auth_id":"acme"}')
    rooms.claim("acme", "support-42")
    assert [call.method for call in livekit.calls] == ["ListRooms"]


def test_an_unowned_room_is_claimed_in_the_database_then_in_its_metadata(rooms, livekit):
    livekit.add_room("lobby", '{"topic":"sales"}')
    room = rooms.claim("acme", "lobby")
    assert owner_of(room.metadata) == "acme"
    assert rooms.ownership.owner("lobby") == "acme"
    assert [call.method for call in livekit.calls] == ["ListRooms", "UpdateRoomMetadata"]


def test_the_database_owner_wins_over_an_unowned_room(rooms, livekit):
    """A room LiveKit recreated without metadata (a participant joined after it closed) is still the
    recorded owner's until LiveKit reports it finished."""
    rooms.claim("acme", "lobby")
    livekit.reset()
    livekit.add_room("lobby")
    with pytest.raises(OwnedByAnotherTenant):
        rooms.claim("globex", "lobby")
    assert livekit.calls_to("UpdateRoomMetadata") == []
    assert owner_of(rooms.claim("acme", "lobby").metadata) == "acme"


def test_a_newer_instance_of_the_room_is_remembered_so_its_end_frees_the_name(rooms, livekit):
    rooms.claim("acme", "lobby")
    livekit.reset()
    newer = livekit.add_room("lobby", '{"auth_id":"acme"}')  # LiveKit closed the room; a participant reopened it
    rooms.claim("acme", "lobby")
    rooms.observe(WebhookEvent(event="room_finished", room=newer))
    assert rooms.ownership.owner("lobby") is None


def test_a_finished_room_frees_its_name(rooms, livekit):
    first = rooms.claim("acme", "lobby")
    rooms.observe(WebhookEvent(event="room_finished", room=models.Room(name="lobby", sid="RM_older")))
    assert rooms.ownership.owner("lobby") == "acme"  # another instance's end changes nothing
    rooms.observe(WebhookEvent(event="room_finished", room=first))
    assert rooms.ownership.owner("lobby") is None
    livekit.reset()
    assert owner_of(rooms.claim("globex", "lobby").metadata) == "globex"


def test_a_room_owned_by_metadata_alone_stays_its_owners(rooms, livekit):
    livekit.add_room("legacy", '{"auth_id":"globex"}')
    with pytest.raises(OwnedByAnotherTenant):
        rooms.claim("acme", "legacy")
    assert rooms.ownership.owner("legacy") is None
    rooms.claim("globex", "legacy")
    assert rooms.ownership.owner("legacy") == "globex"


def test_another_tenants_room_is_never_claimed(rooms, livekit):
    livekit.add_room("support-42", '{"auth_id":"globex","topic":"sales"}')
    with pytest.raises(OwnedByAnotherTenant):
        rooms.claim("acme", "support-42")
    assert livekit.metadata_of("support-42") == {"auth_id": "globex", "topic": "sales"}
    assert livekit.calls_to("UpdateRoomMetadata") == []


def test_listing_without_a_tenant_shows_every_room(rooms, livekit):
    livekit.add_room("a", '{"auth_id":"acme"}')
    livekit.add_room("b")
    assert sorted(r.name for r in rooms.list_rooms(None)) == ["a", "b"]
    assert [r.name for r in rooms.list_rooms("acme")] == ["a"]
    assert rooms.list_rooms("globex") == []


def test_an_open_server_hides_nothing_and_writes_nothing(rooms, livekit):
    livekit.add_participant("support-42", "alex")
    assert rooms.room_details(None, "support-42").participants[0].identity == "alex"
    assert rooms.issue_token(None, "support-42", "Alex", "alex").token
    assert "UpdateRoomMetadata" not in [call.method for call in livekit.calls]


def test_unconfigured_livekit(database):
    rooms = TenantRooms(LiveKitSettings(), None, RoomOwnership(database))
    with pytest.raises(ApiError) as caught:
        rooms.list_rooms("acme")
    assert (caught.value.status, caught.value.code) == (500, "livekit_not_configured")


# --- webhook verification ------------------------------------------------------------------------


@pytest.fixture
def verifier():
    return WebhookVerifier(LiveKitSettings(api_key=KEY, api_secret=SECRET))


def test_a_signed_event_is_verified_and_decoded(verifier):
    body = b'{"event":"participant_joined","id":"EV_1","room":{"name":"r"},"participant":{"identity":"p","attributes":{"sip.phoneNumber":"+1"}}}'
    event = verifier.verify(body, sign_webhook(body, KEY, SECRET))
    assert (event.event, event.room.name, event.participant.attributes["sip.phoneNumber"]) == (
        "participant_joined",
        "r",
        "+1",
    )


@pytest.mark.parametrize("authorization", [None, "", "Bearer ", "garbage", "Bearer a.b.c"])
def test_missing_or_malformed_signatures_are_refused(verifier, authorization):
    with pytest.raises(ApiError) as caught:
        verifier.verify(b"{}", authorization)
    assert (caught.value.status, caught.value.code) == (401, "invalid_webhook_signature")


def test_a_token_for_another_body_or_issuer_is_refused(verifier):
    with pytest.raises(ApiError) as caught:
        verifier.verify(b'{"event":"room_started"}', sign_webhook(b'{"event":"room_finished"}', KEY, SECRET))
    assert caught.value.status == 401
    with pytest.raises(ApiError) as caught:
        verifier.verify(b"{}", sign_webhook(b"{}", "APIother", SECRET))
    assert caught.value.status == 401


def test_a_signed_body_that_is_not_utf8_or_not_an_event_is_a_bad_request(verifier):
    for body in (b"\xff\xfe{}", b"[]", b'{"event": 5}'):
        with pytest.raises(ApiError) as caught:
            verifier.verify(body, sign_webhook(body, KEY, SECRET))
        assert (caught.value.status, caught.value.code) == (400, "invalid_webhook_event")
