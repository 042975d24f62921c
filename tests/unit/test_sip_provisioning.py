"""Inbound SIP provisioning against the fake LiveKit: the trunk and dispatch rule by name, idempotently,
and the background provisioner's retries and status."""

from __future__ import annotations

import json
import threading
import time
from contextlib import nullcontext

import pytest
from livekit.protocol import sip as proto_sip

from app.services.livekit import LiveKitClient
from app.services.sip.provisioning import (
    InboundProvisioner,
    ProvisioningStatus,
    inbound_provisioning_enabled,
    provision_inbound,
)
from app.settings import LiveKitSettings, SipSettings
from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET
from tests.fakes.server import unused_port_url

SIP = SipSettings(room_prefix="call-", allowed_addresses=("54.172.60.0/30", "203.0.113.7"))


@pytest.fixture(params=["protobuf", "json"])
def client(request, livekit):
    client = LiveKitClient(livekit.url, TEST_API_KEY, TEST_API_SECRET, timeout=5, encoding=request.param)
    yield client
    client.close()


def test_the_trunk_and_dispatch_rule_are_created_as_upstream_names_them(client, livekit):
    result = provision_inbound(SIP, client)
    assert result.changed == ("trunk created", "dispatch rule created")
    [trunk] = livekit.sip_provisioning.trunks_named("sayna-call--trunk")
    assert (list(trunk.allowed_addresses), list(trunk.numbers)) == (["54.172.60.0/30", "203.0.113.7"], [])
    assert trunk.include_headers == proto_sip.SIPHeaderOptions.SIP_ALL_HEADERS
    assert trunk.media_encryption == proto_sip.SIPMediaEncryption.SIP_MEDIA_ENCRYPT_DISABLE
    [rule] = livekit.sip_provisioning.rules_named("sayna-call--dispatch")
    assert rule.rule.WhichOneof("rule") == "dispatch_rule_individual"
    assert (rule.rule.dispatch_rule_individual.room_prefix, rule.rule.dispatch_rule_individual.pin) == ("call-", "")
    assert rule.room_config.max_participants == 3
    assert (result.trunk_id, result.dispatch_rule_id) == (trunk.sip_trunk_id, rule.sip_dispatch_rule_id)
    assert all(
        call.claims["sip"]["admin"] is True
        and "video" not in call.claims
        and call.content_type == f"application/{client.encoding}"
        for call in livekit.calls
    )


def test_provisioning_again_changes_nothing(client, livekit):
    first = provision_inbound(SIP, client)
    livekit.calls.clear()
    again = provision_inbound(SIP, client)
    assert again.changed == () and (again.trunk_id, again.dispatch_rule_id) == (first.trunk_id, first.dispatch_rule_id)
    assert [call.method for call in livekit.calls] == ["ListSIPInboundTrunk", "ListSIPDispatchRule"]


def test_changed_allowed_addresses_are_applied_to_the_existing_trunk(client, livekit):
    existing = livekit.sip_provisioning.add_inbound_trunk("sayna-call--trunk", ["198.51.100.1"])
    result = provision_inbound(SIP, client)
    assert result.changed == ("trunk allowed addresses updated", "dispatch rule created")
    assert [t.sip_trunk_id for t in livekit.sip_provisioning.trunks_named("sayna-call--trunk")] == [
        existing.sip_trunk_id
    ]
    assert list(existing.allowed_addresses) == ["54.172.60.0/30", "203.0.113.7"]


def test_nothing_to_provision_without_allowed_addresses_or_livekit():
    livekit = LiveKitSettings(api_key=TEST_API_KEY, api_secret=TEST_API_SECRET)
    assert inbound_provisioning_enabled(SIP, livekit)
    assert not inbound_provisioning_enabled(SipSettings(room_prefix="call-"), livekit)  # LiveKit would refuse it
    assert not inbound_provisioning_enabled(SIP, LiveKitSettings())
    assert not inbound_provisioning_enabled(SipSettings(), livekit)


@pytest.fixture
def start_provisioner(tmp_path):
    """Runs a provisioner in a thread, as the provisioning process does, and stops it afterwards."""
    running = []

    def start(url: str) -> InboundProvisioner:
        livekit = LiveKitSettings(url=url, api_key=TEST_API_KEY, api_secret=TEST_API_SECRET, request_timeout_seconds=2)
        provisioner = InboundProvisioner(
            SIP, livekit, ProvisioningStatus(tmp_path), nullcontext, first_delay=0.05, max_delay=0.2
        )
        thread = threading.Thread(target=provisioner.run)
        thread.start()
        running.append((provisioner, thread))
        return provisioner

    yield start
    for provisioner, thread in running:
        provisioner.stop()
        thread.join(timeout=10)


def _wait_for(status: ProvisioningStatus, predicate, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while not predicate(status.check()):
        assert time.monotonic() < deadline, status.check()
        time.sleep(0.02)
    return status.check()


def test_the_provisioner_retries_until_livekit_answers(livekit, start_provisioner):
    livekit.fail("ListSIPInboundTrunk", "unavailable", "sip service is starting")
    provisioner = start_provisioner(livekit.url)
    failing = _wait_for(provisioner.status, lambda check: "sip service is starting" in check)
    assert failing.startswith("error: LiveKit ListSIPInboundTrunk failed") and "retrying in" in failing
    livekit.recover("ListSIPInboundTrunk")
    assert _wait_for(provisioner.status, lambda check: check == "ok") == "ok"
    assert len(livekit.sip_provisioning.trunks_named("sayna-call--trunk")) == 1
    assert json.loads(provisioner.status.path.read_text()) == {
        "state": "ok",
        "detail": "trunk created, dispatch rule created",
    }


def test_an_unreachable_livekit_is_reported(start_provisioner):
    provisioner = start_provisioner(unused_port_url())
    assert _wait_for(provisioner.status, lambda check: "unreachable" in check).startswith(
        "error: LiveKit is unreachable"
    )


def test_the_status_before_any_provisioning(tmp_path):
    assert ProvisioningStatus(tmp_path).check().startswith("error: not started")
