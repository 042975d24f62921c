"""Sentences about LiveKit: a fake LiveKit server (one per test module, reset per scenario), rooms owned
by tenants, requests made as a tenant, and what LiveKit ends up holding."""

from __future__ import annotations

import json
import threading
from urllib.parse import quote

import jwt
import requests
from pytest_bdd import given, parsers, then, when

from tests.fakes.livekit import TEST_API_KEY as LIVEKIT_KEY
from tests.fakes.livekit import TEST_API_SECRET as LIVEKIT_SECRET
from tests.fakes.livekit import sign_webhook
from tests.fakes.server import unused_port_url

PUBLIC_URL = "wss://rtc.example.com"


def token_of(world, tenant: str) -> str:
    secrets = json.loads(world.env.get("AUTH_API_SECRETS_JSON", "[]"))
    return next(s["secret"] for s in secrets if s["id"] == tenant)


def send(world, method: str, path: str, body: str | None = None, tenant: str | None = None):
    headers = {"Authorization": f"Bearer {token_of(world, tenant)}"} if tenant else {}
    if body is None:
        return world.request(method, path, headers=headers)
    return world.request(method, path, headers=headers, data=body, content_type="application/json")


# --- Given -----------------------------------------------------------------------------------------


@given("LiveKit is connected")
def livekit_connected(world, livekit):
    world.set("LIVEKIT_URL", livekit.url.replace("http://", "ws://"))
    world.set("LIVEKIT_PUBLIC_URL", PUBLIC_URL)
    world.set("LIVEKIT_API_KEY", LIVEKIT_KEY)
    world.set("LIVEKIT_API_SECRET", LIVEKIT_SECRET)


@given("no LiveKit API key and secret are configured")
def livekit_not_configured(world):
    world.env.pop("LIVEKIT_API_KEY", None)
    world.env.pop("LIVEKIT_API_SECRET", None)


@given("the server does not require authentication")
def authentication_off(world):
    world.env.pop("AUTH_REQUIRED", None)
    world.env.pop("AUTH_API_SECRETS_JSON", None)


@given("LiveKit cannot be reached")
def livekit_unreachable(world):
    world.set("LIVEKIT_URL", unused_port_url())
    world.set("LIVEKIT_API_KEY", LIVEKIT_KEY)
    world.set("LIVEKIT_API_SECRET", LIVEKIT_SECRET)


@given("participant tokens carry the upstream server's grants")
def upstream_grants(world):
    world.set("LIVEKIT_TOKEN_UPSTREAM_GRANTS", "true")


@given(parsers.parse('LiveKit answers {method} with the error "{code}": "{message}"'))
def livekit_fails(livekit, method, code, message):
    livekit.fail(method, code, message)


@given(parsers.parse("LiveKit takes {seconds:g} seconds to answer {method}"))
def livekit_slow(livekit, method, seconds):
    livekit.delay(method, seconds)


@given(parsers.parse('room "{room}" belongs to tenant "{tenant}"'))
def room_of_tenant(livekit, room, tenant):
    livekit.add_room(room, json.dumps({"auth_id": tenant}), max_participants=3, creation_time=1_703_123_456)


@given(parsers.parse("room \"{room}\" exists with the metadata '{metadata}'"))
def room_with_metadata(livekit, room, metadata):
    livekit.add_room(room, metadata)


@given(parsers.parse('room "{room}" exists without an owner'))
def room_without_owner(livekit, room):
    livekit.add_room(room)


@given(parsers.parse('"{identity}" is in room "{room}" publishing the track "{track}"'))
def participant_publishing(livekit, identity, room, track):
    livekit.add_participant(room, identity, name=identity.title(), tracks=(track,))


@given(parsers.parse('"{identity}" is in room "{room}"'))
def participant_in_room(livekit, identity, room):
    livekit.add_participant(room, identity, name=identity.title())


@given(parsers.parse('the phone caller "{identity}" is in room "{room}"'))
def phone_caller_in_room(livekit, identity, room):
    livekit.add_participant(room, identity, kind="SIP", attributes={"sip.phoneNumber": "+15551234567"})


@given(parsers.parse('tenant "{tenant}" got a token to room "{room}"'))
def tenant_got_token(world, tenant, room):
    response = send(
        world,
        "POST",
        "/livekit/token",
        json.dumps({"room_name": room, "participant_name": "Alex", "participant_identity": "alex-1"}),
        tenant,
    )
    assert response.status_code == 200, response.get_json()


@given(parsers.parse('LiveKit lost the metadata of room "{room}"'))
def metadata_lost(livekit, room):
    livekit.rooms[room].metadata = ""


# --- When ------------------------------------------------------------------------------------------


@when(parsers.parse('tenants "{first}" and "{second}" each ask {count:d} times at once for a token to room "{room}"'))
def tenants_race(world, first, second, count, room):
    assert world.app is not None  # built before the race starts
    tenants = [first, second] * count
    start = threading.Barrier(len(tenants))
    answers: list[tuple[str, int]] = []

    def ask(tenant: str) -> None:
        client = world.app.test_client()
        start.wait(timeout=30)
        response = client.post(
            "/livekit/token",
            headers={"Authorization": f"Bearer {token_of(world, tenant)}"},
            json={"room_name": room, "participant_name": tenant, "participant_identity": tenant},
        )
        answers.append((tenant, response.status_code))

    threads = [threading.Thread(target=ask, args=(tenant,)) for tenant in tenants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    world.race_answers = answers


@when(parsers.parse('LiveKit reports that room "{room}" has finished'))
def room_finished(world, livekit, room):
    finished = livekit.rooms.pop(room)
    body = json.dumps(
        {"event": "room_finished", "id": "EV_finished", "room": {"sid": finished.sid, "name": room}}
    ).encode()
    response = world.client.post(
        "/livekit/webhook",
        data=body,
        content_type="application/webhook+json",
        headers={"Authorization": sign_webhook(body, LIVEKIT_KEY, LIVEKIT_SECRET)},
    )
    assert response.status_code == 200, response.get_json()


@when(parsers.parse('tenant "{tenant}" sends {method} "{path}" with the JSON body:'))
def tenant_sends_json(world, tenant, method, path, docstring):
    send(world, method.upper(), path, docstring, tenant)


@when(parsers.parse('tenant "{tenant}" sends {method} "{path}"'))
def tenant_sends(world, tenant, method, path):
    send(world, method.upper(), path, None, tenant)


@when("I list the rooms")
def list_rooms(world):
    send(world, "GET", "/livekit/rooms")


@when(parsers.parse('tenant "{tenant}" lists its rooms'))
def tenant_lists_rooms(world, tenant):
    send(world, "GET", "/livekit/rooms", None, tenant)


@when(parsers.parse('tenant "{tenant}" looks inside room "{room}"'))
def tenant_looks_inside(world, tenant, room):
    send(world, "GET", f"/livekit/rooms/{quote(room, safe='')}", None, tenant)


@when(parsers.parse('tenant "{tenant}" removes "{identity}" from room "{room}"'))
def tenant_removes(world, tenant, identity, room):
    send(
        world,
        "DELETE",
        "/livekit/participant",
        json.dumps({"room_name": room, "participant_identity": identity}),
        tenant,
    )


@when(parsers.parse('tenant "{tenant}" mutes the track "{track}" of "{identity}" in room "{room}"'))
def tenant_mutes(world, tenant, track, identity, room):
    body = {"room_name": room, "participant_identity": identity, "track_sid": track, "muted": True}
    send(world, "POST", "/livekit/participant/mute", json.dumps(body), tenant)


@when(
    parsers.parse(
        'tenant "{tenant}" asks about the track "{track}" of "{identity}" in room "{room}" '
        "without saying whether to mute it"
    )
)
def tenant_mutes_without_saying(world, tenant, track, identity, room):
    body = {"room_name": room, "participant_identity": identity, "track_sid": track}
    send(world, "POST", "/livekit/participant/mute", json.dumps(body), tenant)


@when(parsers.parse('I ask for a token to room "{room}" as "{name}" with the identity "{identity}"'))
def ask_token(world, room, name, identity):
    send(
        world,
        "POST",
        "/livekit/token",
        json.dumps({"room_name": room, "participant_name": name, "participant_identity": identity}),
    )


@when(parsers.parse('tenant "{tenant}" asks for a token to room "{room}" as "{name}" with the identity "{identity}"'))
def tenant_asks_token(world, tenant, room, name, identity):
    send(
        world,
        "POST",
        "/livekit/token",
        json.dumps({"room_name": room, "participant_name": name, "participant_identity": identity}),
        tenant,
    )


# --- Then ------------------------------------------------------------------------------------------


@then(parsers.parse('the token lets "{identity}" named "{name}" join room "{room}"'))
def token_joins(world, identity, name, room):
    body = world.response.get_json()
    assert world.response.status_code == 200, body
    claims = jwt.decode(body["token"], LIVEKIT_SECRET, algorithms=["HS256"], issuer=LIVEKIT_KEY)
    assert (claims["sub"], claims["name"], claims["video"]["room"]) == (identity, name, room)
    assert claims["exp"] - claims["nbf"] == 6 * 3600
    assert (body["room_name"], body["participant_identity"]) == (room, identity)


@then(parsers.parse("the token grants {grants}"))
def token_grants(world, grants):
    claims = jwt.decode(world.response.get_json()["token"], LIVEKIT_SECRET, algorithms=["HS256"], issuer=LIVEKIT_KEY)
    granted = {key for key, value in claims["video"].items() if value is True}
    expected = {g.strip() for g in grants.replace(" and ", ", ").split(",")}
    assert granted == expected, granted
    assert not claims["video"].get("roomAdmin") and "sip" not in claims


def _twirp_with_issued_token(world, livekit, method: str, body: dict) -> requests.Response:
    token = world.response.get_json()["token"]
    return requests.post(
        f"{livekit.url}/twirp/livekit.RoomService/{method}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


@then("the token cannot list the rooms on LiveKit")
def token_cannot_list(world, livekit):
    answer = _twirp_with_issued_token(world, livekit, "ListRooms", {})
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthenticated"), answer.text


@then("the token can list the rooms on LiveKit")
def token_can_list(world, livekit):
    answer = _twirp_with_issued_token(world, livekit, "ListRooms", {})
    assert answer.status_code == 200, answer.text


@then("the token cannot create a room on LiveKit")
def token_cannot_create(world, livekit):
    answer = _twirp_with_issued_token(world, livekit, "CreateRoom", {"name": "elsewhere"})
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthenticated"), answer.text
    assert "elsewhere" not in livekit.rooms


@then(parsers.parse('room "{room}" belongs to tenant "{tenant}"'))
@then(parsers.parse('room "{room}" still belongs to tenant "{tenant}"'))
def room_belongs(livekit, room, tenant):
    assert livekit.metadata_of(room).get("auth_id") == tenant, livekit.rooms[room].metadata


@then("one tenant got all its tokens and the other tenant was refused every time")
def one_race_winner(world):
    answers = world.race_answers
    winners = {tenant for tenant, status in answers if status == 200}
    assert len(winners) == 1, answers
    world.race_winner = winner = winners.pop()
    assert all(status == (200 if tenant == winner else 403) for tenant, status in answers), answers


@then(parsers.parse('room "{room}" belongs to the tenant that got the tokens'))
def room_of_winner(livekit, world, room):
    assert livekit.metadata_of(room)["auth_id"] == world.race_winner


@then(parsers.parse("room \"{room}\" has the metadata '{metadata}'"))
def room_metadata(livekit, room, metadata):
    assert livekit.metadata_of(room) == json.loads(metadata)


@then(parsers.parse('room "{room}" keeps the metadata "{metadata}"'))
def room_keeps_metadata(livekit, room, metadata):
    assert livekit.rooms[room].metadata == metadata


@then(parsers.parse('room "{room}" does not exist in LiveKit'))
def room_absent(livekit, room):
    assert room not in livekit.rooms


@then("LiveKit was not asked anything")
def livekit_untouched(livekit):
    assert livekit.calls == [], [c.method for c in livekit.calls]


@then(parsers.parse('the listed rooms are "{names}"'))
def listed_rooms(world, names):
    body = world.response.get_json()
    assert world.response.status_code == 200, body
    assert sorted(room["name"] for room in body["rooms"]) == sorted(n.strip() for n in names.split(",") if n.strip())


@then("no rooms are listed")
def no_rooms(world):
    assert world.response.status_code == 200 and world.response.get_json() == {"rooms": []}


@then(parsers.parse('the room shows "{identity}" as a {state} {kind} participant'))
def room_shows_participant(world, identity, state, kind):
    participants = {p["identity"]: p for p in world.response.get_json()["participants"]}
    participant = participants[identity]
    assert (participant["state"], participant["kind"]) == (state, kind), participant
    assert set(participant) == {
        "sid",
        "identity",
        "name",
        "state",
        "kind",
        "joined_at",
        "metadata",
        "attributes",
        "is_publisher",
    }


@then(parsers.parse('"{identity}" is no longer in room "{room}"'))
def participant_gone(livekit, identity, room):
    assert identity not in livekit.participants[room]


@then(parsers.parse('"{identity}" is still in room "{room}"'))
def participant_still_there(livekit, identity, room):
    assert identity in livekit.participants[room]


@then(parsers.parse('the track "{track}" of "{identity}" in room "{room}" is {state}'))
def track_state(livekit, track, identity, room, state):
    tracks = {t.sid: t for t in livekit.participants[room][identity].tracks}
    assert tracks[track].muted is (state == "muted")


@then(parsers.parse("LiveKit did not {what}"))
def livekit_did_not(livekit, what):
    method = {
        "remove anyone": "RemoveParticipant",
        "mute anything": "MutePublishedTrack",
        "dial anyone": "CreateSIPParticipant",
        "transfer anyone": "TransferSIPParticipant",
        "change any room": "UpdateRoomMetadata",
    }[what]
    assert livekit.calls_to(method) == []


@then(parsers.parse('no log line contains "{text}"'))
def no_log_line(caplog, text):
    records = [r for r in caplog.records if not r.name.startswith("pytest_bdd")]  # it logs the step texts
    assert records, "nothing was logged: the check would prove nothing"
    for record in records:
        assert text not in record.getMessage(), record.getMessage()
