"""SIP pieces without Flask: phone numbers, SIP hosts, the hook registry on the real database, and the
bounded forwarding pool delivering to a real receiver that verifies with the official SDK."""

from __future__ import annotations

import threading

import pytest
from livekit.protocol.webhook import WebhookEvent

from app.errors import ApiError
from app.services.livekit import TenantRooms
from app.services.livekit.ownership import RoomOwnership
from app.services.sip.forwarder import BoundedExecutor, SipEventForwarder
from app.services.sip.hooks import SipHookRegistry
from app.services.sip.inbound import inbound_call, sip_domain
from app.services.sip.phone import InvalidPhoneNumber, normalize_phone_number
from app.settings import LiveKitSettings, SipHookConfig, SipSettings
from tests.fakes.server import FakeServer
from tests.fakes.sip_hook_receiver import FakeSipHookReceiver


@pytest.mark.parametrize(
    "raw, tel",
    [
        ("+15551234567", "tel:+15551234567"),
        (" 07123456789 ", "tel:07123456789"),
        ("1234", "tel:1234"),
        ("0", "tel:0"),
        ("+1", "tel:+1"),
    ],
)
def test_valid_phone_numbers(raw, tel):
    assert normalize_phone_number(raw) == tel


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        ("+", "at least one digit"),
        ("1+2", "'+' at position 1"),
        ("+1 555", "' ' at position 2"),
        ("555-1234", "'-' at position 3"),
        ("tel:+1555", "'t' at position 0"),
    ],
)
def test_invalid_phone_numbers(raw, reason):
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalize_phone_number(raw)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "header, host",
    [
        ('"Sales" <sip:+15550001111@Sip.Example.com:5060;transport=tcp>', "sip.example.com"),
        ("sips:alice@secure.example.org", "secure.example.org"),
        ("sip:+1555@10.0.0.7", "10.0.0.7"),
        ("pbx.example.net:5080", "pbx.example.net"),
        ("localhost", None),
        ("user@example.com", None),
        ("not a host.com", None),
        ("", None),
    ],
)
def test_sip_domain(header, host):
    assert sip_domain(header) == host


def _event(**attributes) -> WebhookEvent:
    event = WebhookEvent(event="participant_joined", id="EV_1")
    event.room.name, event.room.sid = "sip-1", "RM_1"
    event.participant.identity, event.participant.sid = "caller", "PA_1"
    event.participant.attributes.update(attributes)
    return event


def test_an_inbound_call_needs_a_host_and_both_numbers():
    full = {"sip.h.to": "<sip:+1555@sip.acme.example>", "sip.phoneNumber": "+1444", "sip.trunkPhoneNumber": "+1555"}
    call = inbound_call(_event(**full, **{"sip.h.x-to-ip": "pbx.acme.example:5060"}))
    assert (call.sip_host, call.from_phone_number, call.to_phone_number) == ("pbx.acme.example", "+1444", "+1555")
    assert call.sip_headers == {"to": "<sip:+1555@sip.acme.example>", "x-to-ip": "pbx.acme.example:5060"}
    for missing in full:
        assert inbound_call(_event(**{k: v for k, v in full.items() if k != missing})) is None
    left = _event(**full)
    left.event = "participant_left"
    assert inbound_call(left) is None


# --- hooks on the database -----------------------------------------------------------------------


def _registry(database, *, auth_required=False, secret=None):
    settings = SipSettings(
        room_prefix="sip-",
        hook_secret=secret,
        hooks_allow_private=True,
        hooks=(SipHookConfig("config.example.com", "https://hooks.example.com/config", "own-secret", "acme"),),
    )
    return SipHookRegistry(settings, database, auth_required=auth_required)


def test_hooks_persist_and_config_wins(database):
    registry = _registry(database)
    registry.upsert(None, [{"host": " New.Example.com", "url": "https://hooks.example.com/new", "auth_id": None}])
    again = _registry(database)  # another worker, or after a restart
    assert [h.host for h in again.visible(None)] == ["config.example.com", "new.example.com"]
    assert again.find("NEW.example.com").url == "https://hooks.example.com/new"
    assert again.find("config.example.com").secret == "own-secret"
    assert again.find("unknown.example.com") is None


def test_hooks_are_tenant_scoped(database):
    registry = _registry(database, auth_required=True)
    registry.upsert("acme", [{"host": "a.example.com", "url": "https://a.example.com/", "auth_id": "acme"}])
    assert [h.host for h in registry.visible("globex")] == []
    for entry in (
        {"host": "b.example.com", "url": "https://b/", "auth_id": "acme"},  # routes to acme
        {"host": "a.example.com", "url": "https://b/", "auth_id": "globex"},
    ):  # takes acme's host
        with pytest.raises(ApiError) as caught:
            registry.upsert("globex", [entry])
        assert (caught.value.status, caught.value.code) == (403, "hook_access_denied")
    registry.delete("globex", ["a.example.com"])
    assert registry.find("a.example.com").auth_id == "acme"
    registry.delete("acme", ["A.example.com"])
    assert registry.find("a.example.com") is None


def test_concurrent_upserts_of_one_host_all_succeed(database):
    registry = _registry(database)
    errors: list[Exception] = []

    def upsert(n: int) -> None:
        try:
            registry.upsert(
                None, [{"host": "race.example.com", "url": f"https://hooks.example.com/{n}", "auth_id": ""}]
            )
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=upsert, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and registry.find("race.example.com") is not None


# --- forwarding ----------------------------------------------------------------------------------


def test_the_bounded_executor_refuses_work_beyond_its_bound():
    release = threading.Event()
    executor = BoundedExecutor(workers=1, max_pending=2)
    futures = [executor.submit(release.wait, 5) for _ in range(3)]
    assert futures[0] is not None and futures[1] is not None and futures[2] is None
    release.set()
    assert all(f.result(timeout=5) for f in futures[:2])
    assert executor.submit(lambda: 42).result(timeout=5) == 42  # slots come back
    executor.shutdown()


def test_a_call_is_forwarded_signed_with_the_hook_secret(database):
    receiver = FakeSipHookReceiver("sip-hook-secret-of-the-tests")
    with FakeServer(receiver.app) as server:
        settings = SipSettings(room_prefix="sip-", hook_secret="sip-hook-secret-of-the-tests", hooks_allow_private=True)
        registry = SipHookRegistry(settings, database)
        registry.upsert(None, [{"host": "sip.acme.example", "url": server.url + "/sip-events", "auth_id": ""}])
        forwarder = SipEventForwarder(settings, registry, TenantRooms(LiveKitSettings(), None, RoomOwnership(database)))
        try:
            future = forwarder.handle(
                _event(
                    **{
                        "sip.h.to": "<sip:+1555@sip.acme.example>",
                        "sip.phoneNumber": "+1444",
                        "sip.trunkPhoneNumber": "+1555",
                    }
                )
            )
            assert future.result(timeout=5) == 200
        finally:
            forwarder.close()
    assert receiver.rejected == []
    payload = receiver.deliveries[0]["payload"]
    assert payload["sip_host"] == "sip.acme.example" and "name" not in payload["participant"]
    assert receiver.deliveries[0]["headers"]["X-Sayna-Signature-Version"] == "v1"
