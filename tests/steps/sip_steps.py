"""Sentences about SIP: the carrier configuration, outbound calls and transfers LiveKit was asked for,
SIP hooks, and LiveKit's signed webhook with the events forwarded to a customer's hook receiver."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from pytest_bdd import given, parsers, then, when
from sqlalchemy import text

from app.db.models import SipHook
from tests.fakes.livekit import sign_webhook
from tests.fakes.server import FakeServer
from tests.fakes.sip_hook_receiver import FakeSipHookReceiver
from tests.steps.livekit_steps import LIVEKIT_KEY, LIVEKIT_SECRET, send

HOOK_SECRET = "sip-hook-secret-shared-by-runtime-hooks"


@pytest.fixture(scope="module")
def hook_receiver_server():
    receiver = FakeSipHookReceiver(HOOK_SECRET)
    with FakeServer(receiver.app) as server:
        receiver.url = server.url + "/sip-events"
        yield receiver


@pytest.fixture
def hook_receiver(hook_receiver_server):
    hook_receiver_server.reset(HOOK_SECRET)
    return hook_receiver_server


# --- Given -----------------------------------------------------------------------------------------


@given(parsers.parse('SIP calls go out through the carrier "{address}" as user "{user}" with password "{password}"'))
def sip_carrier(world, address, user, password):
    world.set("SIP_ROOM_PREFIX", "sip-")
    world.set("SIP_OUTBOUND_ADDRESS", address)
    world.set("SIP_OUTBOUND_AUTH_USERNAME", user)
    world.set("SIP_OUTBOUND_AUTH_PASSWORD", password)


@given("SIP is configured without an outbound carrier")
def sip_without_carrier(world):
    for name in ("SIP_OUTBOUND_ADDRESS", "SIP_OUTBOUND_AUTH_USERNAME", "SIP_OUTBOUND_AUTH_PASSWORD"):
        world.env.pop(name, None)
    world.set("SIP_ROOM_PREFIX", "sip-")


@given(parsers.parse('SIP is configured with the hook secret "{secret}"'))
def sip_with_hook_secret(world, secret):
    world.set("SIP_ROOM_PREFIX", "sip-")
    world.set("SIP_HOOK_SECRET", secret)


@given(parsers.parse('SIP is configured with the read-only hook "{host}" for tenant "{tenant}"'))
def sip_config_hook(world, host, tenant):
    world.set("SIP_ROOM_PREFIX", "sip-")
    world.set(
        "SIP_HOOKS_JSON", json.dumps([{"host": host, "url": f"https://hooks.example.com/{tenant}", "auth_id": tenant}])
    )


@given(parsers.parse('the customer receives SIP events for "{host}" as tenant "{tenant}"'))
def receiver_hook_from_config(world, hook_receiver, host, tenant):
    world.set("SIP_ROOM_PREFIX", "sip-")
    world.set("SIP_HOOK_SECRET", HOOK_SECRET)
    world.set("SIP_HOOKS_JSON", json.dumps([{"host": host, "url": hook_receiver.url, "auth_id": tenant}]))


@given(parsers.parse('the customer receives SIP events for "{host}" signed with its own secret "{secret}"'))
def receiver_hook_with_own_secret(world, hook_receiver, host, secret):
    hook_receiver.reset(secret)
    world.set("SIP_ROOM_PREFIX", "sip-")
    world.set("SIP_HOOK_SECRET", HOOK_SECRET)
    world.set("SIP_HOOKS_JSON", json.dumps([{"host": host, "url": hook_receiver.url, "secret": secret}]))


@given(parsers.parse('tenant "{tenant}" routes SIP events for "{host}" to the customer\'s receiver'))
def runtime_hook(world, hook_receiver, tenant, host):
    world.set("SIP_ROOM_PREFIX", "sip-")
    world.set("SIP_HOOK_SECRET", HOOK_SECRET)
    response = send(
        world,
        "POST",
        "/sip/hooks",
        json.dumps({"hooks": [{"host": host, "url": hook_receiver.url, "auth_id": tenant}]}),
        tenant,
    )
    assert response.status_code == 200, response.get_json()


@given(parsers.parse('a hook sends the calls for "{host}" to "{url}"'))
def open_hook(world, host, url):
    response = send(world, "POST", "/sip/hooks", json.dumps({"hooks": [{"host": host, "url": url, "auth_id": ""}]}))
    assert response.status_code == 200, response.get_json()


@given(parsers.parse('tenant "{tenant}" has a hook sending the calls for "{host}" to "{url}"'))
def tenant_hook(world, tenant, host, url):
    response = send(
        world, "POST", "/sip/hooks", json.dumps({"hooks": [{"host": host, "url": url, "auth_id": tenant}]}), tenant
    )
    assert response.status_code == 200, response.get_json()


@given("SIP hooks may only send to the public internet")
def hooks_public_only(world):
    world.set("SIP_HOOKS_ALLOW_PRIVATE", "false")


@given(
    parsers.parse(
        'the hook of tenant "{tenant}" for "{host}" was written when its URL\'s host was public, '
        "and now resolves to the customer's receiver on 127.0.0.1"
    )
)
def hook_now_private(world, hook_receiver, tenant, host):
    world.set("SIP_HOOK_SECRET", HOOK_SECRET)
    url = hook_receiver.url.replace("127.0.0.1", "localhost")  # a name, as a real hook's would be
    now = datetime.now(UTC)
    with world.app.extensions["services"].database.session() as session:
        session.add(SipHook(host=host, url=url, auth_id=tenant, created_at=now, updated_at=now))


@given(parsers.parse('SIP calls go out through the LiveKit trunk "{trunk}"'))
def sip_trunk(world, trunk):
    world.set("SIP_OUTBOUND_TRUNK_ID", trunk)


@given("the hook store is broken")
def hook_store_broken(world):
    with world.app.extensions["services"].database.engine.begin() as connection:
        connection.execute(text("DROP TABLE sip_hooks"))


# --- When ------------------------------------------------------------------------------------------

_CALL = r'"(?P<to>[^"]*)" from "(?P<caller>[^"]*)" into room "(?P<room>[^"]*)" as "(?P<identity>[^"]*)"'


def place_call(world, to, caller, room, identity, tenant=None, sip=None):
    body = {
        "room_name": room,
        "participant_name": "Customer",
        "participant_identity": identity,
        "from_phone_number": caller,
        "to_phone_number": to,
    }
    if sip is not None:
        body["sip"] = sip
    send(world, "POST", "/sip/call", json.dumps(body), tenant)


@when(parsers.re(rf"I call {_CALL}$"))
def call(world, to, caller, room, identity):
    place_call(world, to, caller, room, identity)


@when(parsers.re(rf'tenant "(?P<tenant>[^"]+)" calls {_CALL}$'))
def tenant_calls(world, tenant, to, caller, room, identity):
    place_call(world, to, caller, room, identity, tenant=tenant)


@when(
    parsers.re(
        rf'I call {_CALL} through the carrier "(?P<address>[^"]*)" as user "(?P<user>[^"]*)" '
        r'with password "(?P<password>[^"]*)"$'
    )
)
def call_through_carrier(world, to, caller, room, identity, address, user, password):
    place_call(
        world,
        to,
        caller,
        room,
        identity,
        sip={"outbound_address": address, "auth_username": user, "auth_password": password},
    )


@when(parsers.re(rf'I call {_CALL} with the carrier password "(?P<password>[^"]*)"$'))
def call_with_password(world, to, caller, room, identity, password):
    place_call(world, to, caller, room, identity, sip={"auth_password": password})


@when(parsers.re(rf"I call {_CALL} leaving the carrier, user and password empty$"))
def call_with_empty_overrides(world, to, caller, room, identity):
    place_call(
        world, to, caller, room, identity, sip={"outbound_address": None, "auth_username": None, "auth_password": None}
    )


@when(
    parsers.re(
        r'tenant "(?P<tenant>[^"]+)" transfers "(?P<identity>[^"]*)" in room "(?P<room>[^"]*)" '
        r'to "(?P<target>[^"]*)"$'
    )
)
def tenant_transfers(world, tenant, identity, room, target):
    body = {"room_name": room, "participant_identity": identity, "transfer_to": target}
    send(world, "POST", "/sip/transfer", json.dumps(body), tenant)


_HOOK = r'a hook for "(?P<host>[^"]*)" sending to "(?P<url>[^"]*)"'


def add_hooks(world, hooks: list[dict], tenant: str | None = None):
    send(world, "POST", "/sip/hooks", json.dumps({"hooks": hooks}), tenant)
    for hook in hooks:
        world.hook_answers = [*getattr(world, "hook_answers", []), (hook["host"], world.response)]


def delete_hooks(world, hosts: str, tenant: str | None = None):
    send(world, "DELETE", "/sip/hooks", json.dumps({"hosts": re.findall(r'"([^"]*)"', hosts)}), tenant)


@when(parsers.re(rf"I add {_HOOK}$"))
def add_hook(world, host, url):
    add_hooks(world, [{"host": host, "url": url, "auth_id": ""}])


@when(parsers.re(rf'tenant "(?P<tenant>[^"]+)" adds {_HOOK}$'))
def tenant_adds_hook(world, tenant, host, url):
    add_hooks(world, [{"host": host, "url": url, "auth_id": tenant}], tenant)


@when(parsers.re(rf'tenant "(?P<tenant>[^"]+)" adds {_HOOK} for tenant "(?P<owner>[^"]*)"$'))
def tenant_adds_hook_for(world, tenant, host, url, owner):
    add_hooks(world, [{"host": host, "url": url, "auth_id": owner}], tenant)


@when(parsers.re(rf'tenant "(?P<tenant>[^"]+)" adds {_HOOK} for no tenant$'))
def tenant_adds_hook_for_nobody(world, tenant, host, url):
    add_hooks(world, [{"host": host, "url": url, "auth_id": ""}], tenant)


@when(parsers.parse('I add hooks for "{first}" and "{second}" at once'))
def add_two_hooks(world, first, second):
    add_hooks(
        world,
        [
            {"host": first, "url": "https://hooks.example.com/1", "auth_id": ""},
            {"host": second, "url": "https://hooks.example.com/2", "auth_id": ""},
        ],
    )


@when("I add no hooks")
def add_no_hooks(world):
    add_hooks(world, [])


@when(parsers.re(r"I delete the hooks for (?P<hosts>.+)$"))
def delete(world, hosts):
    delete_hooks(world, hosts)


@when(parsers.re(r'tenant "(?P<tenant>[^"]+)" deletes the hooks for (?P<hosts>.+)$'))
def tenant_deletes(world, tenant, hosts):
    delete_hooks(world, hosts, tenant)


@when("I delete no hooks")
def delete_nothing(world):
    delete_hooks(world, "")


@when("I list the SIP hooks")
def list_hooks(world):
    send(world, "GET", "/sip/hooks")


@when(parsers.parse('tenant "{tenant}" lists the SIP hooks'))
def tenant_lists_hooks(world, tenant):
    send(world, "GET", "/sip/hooks", tenant=tenant)


@when("the server restarts")
def restart(world):
    world._app = None


def _event(room: str, identity: str, caller: str, dialled: str, to_header: str) -> dict:
    return {
        "event": "participant_joined",
        "id": "EV_call_joined_1",
        "createdAt": "1764000000",
        "room": {"sid": "RM_inbound1", "name": room},
        "participant": {
            "sid": "PA_caller1",
            "identity": identity,
            "name": "Phone Caller",
            "kind": "SIP",
            "attributes": {
                "sip.phoneNumber": caller,
                "sip.trunkPhoneNumber": dialled,
                "sip.h.to": to_header,
                "sip.h.x-customer": "gold",
            },
        },
    }


def _post_webhook(world, body: bytes, authorization: str | None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    world.request("POST", "/livekit/webhook", data=body, headers=headers, content_type="application/webhook+json")


@when(parsers.parse('LiveKit reports that "{caller}" called "{dialled}" at "{host}", joining room "{room}"'))
def livekit_reports_call(world, caller, dialled, host, room):
    body = json.dumps(_event(room, "sip_caller_1", caller, dialled, f"<sip:{dialled}@{host};transport=udp>")).encode()
    _post_webhook(world, body, sign_webhook(body, LIVEKIT_KEY, LIVEKIT_SECRET))


@when(parsers.parse('LiveKit reports that "{identity}" joined room "{room}" from a browser'))
def livekit_reports_browser(world, identity, room):
    body = json.dumps(
        {
            "event": "participant_joined",
            "id": "EV_web_1",
            "room": {"sid": "RM_1", "name": room},
            "participant": {"sid": "PA_1", "identity": identity},
        }
    ).encode()
    _post_webhook(world, body, sign_webhook(body, LIVEKIT_KEY, LIVEKIT_SECRET))


def _signed_event(world, event: str, prefix: str) -> None:
    body = json.dumps({"event": event, "id": "EV_1", "room": {"sid": "RM_1", "name": "support-42"}}).encode()
    _post_webhook(world, body, prefix + sign_webhook(body, LIVEKIT_KEY, LIVEKIT_SECRET))


@when(parsers.parse('LiveKit sends a signed "{event}" event'))
def livekit_sends_event(world, event):
    _signed_event(world, event, "")


@when(parsers.parse('LiveKit sends a signed "{event}" event with a Bearer prefix'))
def livekit_sends_event_with_bearer(world, event):
    _signed_event(world, event, "Bearer ")


@when("an event arrives without a signature")
def unsigned_event(world):
    _post_webhook(world, b'{"event":"room_started","room":{"name":"support-42"}}', None)


@when("an event arrives signed with another secret")
def wrongly_signed_event(world):
    body = b'{"event":"room_started","room":{"name":"support-42"}}'
    _post_webhook(world, body, sign_webhook(body, LIVEKIT_KEY, "not-the-livekit-secret-but-32-bytes-long"))


@when("an event arrives whose body was altered after signing")
def altered_event(world):
    signed = b'{"event":"room_started","room":{"name":"support-42"}}'
    _post_webhook(
        world, signed.replace(b"support-42", b"support-43"), sign_webhook(signed, LIVEKIT_KEY, LIVEKIT_SECRET)
    )


@when("an event arrives with an expired signature")
def expired_event(world):
    body = b'{"event":"room_started","room":{"name":"support-42"}}'
    _post_webhook(world, body, sign_webhook(body, LIVEKIT_KEY, LIVEKIT_SECRET, ttl_seconds=-120))


@when("a signed body arrives that is not a LiveKit event")
def signed_garbage(world):
    body = b'["not", "an", "event"]'
    _post_webhook(world, body, sign_webhook(body, LIVEKIT_KEY, LIVEKIT_SECRET))


# --- Then ------------------------------------------------------------------------------------------


@then(parsers.parse('LiveKit dialled "{to}" from "{caller}" through the carrier "{address}" as user "{user}"'))
def dialled_through_carrier(livekit, to, caller, address, user):
    call = livekit.sip_calls[-1]
    assert (call.sip_call_to, call.sip_number, call.trunk.hostname, call.trunk.auth_username) == (
        to,
        caller,
        address,
        user,
    ), call
    assert call.sip_trunk_id == ""


@then(parsers.parse('LiveKit dialled "{to}" through the trunk "{trunk}"'))
def dialled_through_trunk(livekit, to, trunk):
    call = livekit.sip_calls[-1]
    assert (call.sip_call_to, call.sip_trunk_id, call.HasField("trunk")) == (to, trunk, False), call


@then(parsers.parse('the transfer to "{target}" is reported as {status}'))
def transfer_reported(world, target, status):
    body = world.response.get_json()
    assert (body["status"], body["transfer_to"]) == (status, target), body


@then(parsers.parse('the carrier password sent to LiveKit is "{password}"'))
def carrier_password(livekit, password):
    assert livekit.sip_calls[-1].trunk.auth_password == password


@then(parsers.parse('"{identity}" is on the phone in room "{room}"'))
def on_the_phone(livekit, identity, room):
    assert livekit.participants[room][identity].kind == 3  # SIP


@then(parsers.parse('LiveKit was asked to transfer "{identity}" in room "{room}" to "{target}"'))
def transferred(livekit, identity, room, target):
    transfer = livekit.transfers[-1]
    assert (transfer.participant_identity, transfer.room_name, transfer.transfer_to) == (identity, room, target)


@then(parsers.parse('both answers are the same {status:d} "{code}" but for the host they name'))
def same_answers(world, status, code):
    (first_host, first), (second_host, second) = world.hook_answers
    assert (first.status_code, second.status_code) == (status, status)
    assert first.get_json()["code"] == second.get_json()["code"] == code
    assert first.get_json()["error"].replace(first_host, "<host>") == second.get_json()["error"].replace(
        second_host, "<host>"
    ), (first.get_json(), second.get_json())
    assert first.headers.get("Allow") == second.headers.get("Allow")


@then("the delivery is refused as not public and the customer receives nothing")
def delivery_refused(world, hook_receiver, caplog):
    assert world.app.extensions["services"].sip.forwarder.wait_until_idle()
    assert any("SIP hook delivery refused" in record.getMessage() for record in caplog.records), "not refused"
    assert hook_receiver.deliveries == [] and hook_receiver.rejected == []


@then(parsers.parse('the listed hooks are "{hosts}"'))
def listed_hooks(world, hosts):
    body = world.response.get_json()
    assert world.response.status_code == 200, body
    assert sorted(h["host"] for h in body["hooks"]) == sorted(h.strip() for h in hosts.split(",") if h.strip())
    assert all(isinstance(h["auth_id"], str) for h in body["hooks"])


@then("no hooks are listed")
def no_hooks(world):
    assert world.response.status_code == 200 and world.response.get_json() == {"hooks": []}


@then(parsers.parse('the hook for "{host}" sends to "{url}" for no tenant'))
def hook_without_tenant(world, host, url):
    hook_details(world, host, url, "")


@then(parsers.parse('the hook for "{host}" sends to "{url}" for tenant "{tenant}"'))
def hook_details(world, host, url, tenant):
    hooks = {h["host"]: h for h in world.response.get_json()["hooks"]}
    assert hooks[host] == {"host": host, "url": url, "auth_id": tenant}


@then(parsers.parse('the customer receives one verified event about the call from "{caller}" to "{dialled}"'))
def customer_receives(hook_receiver, caller, dialled):
    deliveries = hook_receiver.wait_for(1)
    assert hook_receiver.rejected == [] and len(deliveries) == 1, (hook_receiver.rejected, deliveries)
    payload = deliveries[0]["payload"]
    assert (payload["from_phone_number"], payload["to_phone_number"]) == (caller, dialled)
    assert deliveries[0]["headers"]["X-Sayna-Event-Id"] == "EV_call_joined_1"


@then(parsers.parse('the event names room "{room}", host "{host}", prefix "{prefix}" and the participant "{identity}"'))
def event_details(hook_receiver, room, host, prefix, identity):
    payload = hook_receiver.deliveries[0]["payload"]
    assert payload["room"] == {"name": room, "sid": "RM_inbound1"}
    assert payload["participant"] == {"identity": identity, "sid": "PA_caller1", "name": "Phone Caller"}
    assert (payload["sip_host"], payload["room_prefix"]) == (host, prefix)


@then(parsers.parse('the event carries the SIP header "{name}" = "{value}"'))
def event_header(hook_receiver, name, value):
    assert hook_receiver.deliveries[0]["payload"]["sip_headers"][name] == value


@then("the customer receives nothing")
def customer_receives_nothing(world, hook_receiver):
    # forwarding is asynchronous: once the forwarder has nothing in flight, a wrongly queued delivery has arrived
    assert world.app.extensions["services"].sip.forwarder.wait_until_idle()
    assert hook_receiver.deliveries == [] and hook_receiver.rejected == []
