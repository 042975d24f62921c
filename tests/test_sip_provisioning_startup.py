"""Inbound SIP provisioning as operators run it: gunicorn with two workers, LiveKit down at start-up."""

from __future__ import annotations

import time

import requests

from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET
from tests.fakes.server import unused_port_url
from tests.serving import gunicorn

INBOUND_SIP = {
    "LIVEKIT_API_KEY": TEST_API_KEY,
    "LIVEKIT_API_SECRET": TEST_API_SECRET,
    "SIP_ROOM_PREFIX": "call-",
    "SIP_ALLOWED_ADDRESSES": "54.172.60.0/30,203.0.113.7",
}


def _ready_saying(served, text: str, timeout: float = 30.0) -> requests.Response:
    """The first /ready answer containing `text` (provisioning runs in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = requests.get(served.url + "/ready", timeout=5)
        if text in answer.text:
            return answer
        assert time.monotonic() < deadline, (answer.text, served.log_text()[-3000:])
        time.sleep(0.1)


def test_the_server_starts_without_livekit_and_provisions_once_when_it_answers(tmp_path, database_url, livekit):
    livekit.fail("ListSIPInboundTrunk", "unavailable", "LiveKit SIP is down")
    with gunicorn(tmp_path, DATABASE_URL=database_url, LIVEKIT_URL=livekit.url, **INBOUND_SIP) as served:
        failing = _ready_saying(served, "LiveKit SIP is down")
        assert failing.status_code == 503
        assert failing.json()["checks"]["sip_provisioning"].startswith("error: LiveKit ListSIPInboundTrunk failed")
        assert requests.get(served.url + "/", timeout=5).status_code == 200
        livekit.recover("ListSIPInboundTrunk")
        assert _ready_saying(served, '"sip_provisioning":"ok"').status_code == 200
        for _ in range(4):  # every worker reports the same
            assert requests.get(served.url + "/ready", timeout=5).json()["checks"]["sip_provisioning"] == "ok"
    # once per deployment: the master's provisioning process, not each of the two workers
    assert len(livekit.calls_to("CreateSIPInboundTrunk")) == 1
    assert len(livekit.calls_to("CreateSIPDispatchRule")) == 1
    assert [t.name for t in livekit.sip_provisioning.inbound_trunks.values()] == ["sayna-call--trunk"]
    assert [r.name for r in livekit.sip_provisioning.dispatch_rules.values()] == ["sayna-call--dispatch"]


def test_an_unreachable_livekit_keeps_the_server_up_but_not_ready(tmp_path, database_url):
    with gunicorn(tmp_path, DATABASE_URL=database_url, LIVEKIT_URL=unused_port_url(), **INBOUND_SIP) as served:
        failing = _ready_saying(served, "unreachable")
        assert failing.status_code == 503 and failing.json()["status"] == "unavailable"
        assert failing.json()["checks"]["database"] == "ok"
        assert requests.get(served.url + "/", timeout=5).json() == {"status": "ok"}
