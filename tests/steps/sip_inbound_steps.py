"""Sentences about inbound SIP provisioning. "The server starts" builds the app and runs the deployment's
provisioner in the background, as the gunicorn master's provisioning process does."""

from __future__ import annotations

import threading
import time

from pytest_bdd import given, parsers, then, when

from app.services.sip.provisioning import InboundProvisioner


def _addresses(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


def _start(world) -> InboundProvisioner | None:
    provisioner = InboundProvisioner.for_deployment(world.app.extensions["services"].settings)
    if provisioner is not None:
        provisioner.status.write("pending", "not provisioned yet")
        thread = threading.Thread(target=provisioner.run)
        thread.start()
        world.on_close(lambda: (provisioner.stop(), thread.join(timeout=10)))
    world.provisioner = provisioner
    return provisioner


def _ready_until(world, accept, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        response = world.request("GET", "/ready")
        if accept(response):
            return response
        assert time.monotonic() < deadline, response.get_json()
        time.sleep(0.02)


# --- Given -----------------------------------------------------------------------------------------


@given(parsers.parse('inbound calls come from "{addresses}" into rooms starting with "{prefix}"'))
def inbound_calls(world, addresses, prefix):
    world.set("SIP_ROOM_PREFIX", prefix)
    world.set("SIP_ALLOWED_ADDRESSES", ",".join(_addresses(addresses)))


@given("inbound calls come from no configured address")
def no_allowed_addresses(world):
    world.env.pop("SIP_ALLOWED_ADDRESSES", None)


@given("the server has started once before")
def started_before(world, livekit):
    provisioner = InboundProvisioner.for_deployment(world.app.extensions["services"].settings)
    assert provisioner.attempt().changed == ("trunk created", "dispatch rule created")


@given(parsers.parse('LiveKit has the inbound trunk "{name}" accepting calls from "{addresses}"'))
def existing_trunk(livekit, name, addresses):
    livekit.sip_provisioning.add_inbound_trunk(name, _addresses(addresses))


# --- When ------------------------------------------------------------------------------------------


@when("the server starts")
def server_starts(world):
    _start(world)


@when("the server has started")
def server_has_started(world):
    if _start(world) is not None:
        _ready_until(world, lambda response: "not provisioned yet" not in response.get_data(as_text=True))


@when("LiveKit answers again")
def livekit_answers_again(livekit):
    livekit.recover("ListSIPInboundTrunk")


# --- Then ------------------------------------------------------------------------------------------


@then(parsers.parse('LiveKit has one inbound trunk "{name}" accepting calls from "{addresses}"'))
def one_trunk(livekit, name, addresses):
    [trunk] = livekit.sip_provisioning.trunks_named(name)
    assert list(trunk.allowed_addresses) == _addresses(addresses)
    assert len(livekit.sip_provisioning.inbound_trunks) == 1


@then(
    parsers.parse('LiveKit has one dispatch rule "{name}" putting each caller in a new room starting with "{prefix}"')
)
def one_rule(livekit, name, prefix):
    [rule] = livekit.sip_provisioning.rules_named(name)
    assert rule.rule.dispatch_rule_individual.room_prefix == prefix
    assert len(livekit.sip_provisioning.dispatch_rules) == 1


@then("LiveKit has no inbound trunk")
def no_trunk(livekit):
    assert livekit.sip_provisioning.inbound_trunks == {} and livekit.sip_provisioning.dispatch_rules == {}
    assert livekit.calls == []


@then(parsers.parse('the server is ready, with "{check}" "{value}"'))
def ready_with(world, check, value):
    response = world.request("GET", "/ready")
    assert response.status_code == 200 and response.get_json()["checks"][check] == value, response.get_json()


@then(parsers.parse('the server is ready, without a "{check}" check'))
def ready_without(world, check):
    response = world.request("GET", "/ready")
    assert response.status_code == 200 and check not in response.get_json()["checks"], response.get_json()


@then(parsers.parse('the server is alive but not ready, with "{check}" reporting "{text}"'))
def alive_not_ready(world, check, text):
    response = _ready_until(world, lambda response: text in response.get_json()["checks"][check])
    assert response.status_code == 503 and response.get_json()["status"] == "unavailable"
    assert world.request("GET", "/").status_code == 200


@then("the server becomes ready")
def becomes_ready(world):
    assert (
        _ready_until(world, lambda response: response.status_code == 200).get_json()["checks"]["sip_provisioning"]
        == "ok"
    )
