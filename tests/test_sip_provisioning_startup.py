"""Inbound SIP provisioning as operators run it: gunicorn with two workers, LiveKit down at start-up."""
from __future__ import annotations

import subprocess
import time

import requests

from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET
from tests.fakes.server import unused_port_url
from tests.test_startup import GUNICORN, _env, _free_port


def _serve(tmp_path, database_url, livekit_url: str):
    port = _free_port()
    env = _env(tmp_path, PORT=str(port), DATABASE_URL=database_url, LIVEKIT_URL=livekit_url,
               LIVEKIT_API_KEY=TEST_API_KEY, LIVEKIT_API_SECRET=TEST_API_SECRET, SIP_ROOM_PREFIX="call-",
               SIP_ALLOWED_ADDRESSES="54.172.60.0/30,203.0.113.7")
    log = open(tmp_path / "gunicorn.log", "wb")  # a file, not a pipe: nobody reads while it runs
    server = subprocess.Popen(GUNICORN, env=env, stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    server.log_path = tmp_path / "gunicorn.log"
    return server, f"http://127.0.0.1:{port}"


def _until(condition, server, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
            if value is not None:  # a 503 Response is falsy
                return value
        except requests.ConnectionError:
            pass
        assert server.poll() is None, server.log_path.read_text()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _ready(base: str) -> requests.Response:
    return requests.get(base + "/ready", timeout=5)


def _answer_containing(base: str, text: str) -> requests.Response | None:
    answer = _ready(base)
    return answer if text in answer.text else None


def test_the_server_starts_without_livekit_and_provisions_once_when_it_answers(tmp_path, database_url, livekit):
    livekit.fail("ListSIPInboundTrunk", "unavailable", "LiveKit SIP is down")
    server, base = _serve(tmp_path, database_url, livekit.url)
    try:
        failing = _until(lambda: _answer_containing(base, "LiveKit SIP is down"), server)
        assert failing.status_code == 503
        assert failing.json()["checks"]["sip_provisioning"].startswith("error: LiveKit ListSIPInboundTrunk failed")
        assert requests.get(base + "/", timeout=5).status_code == 200
        livekit.recover("ListSIPInboundTrunk")
        ready = _until(lambda: _answer_containing(base, '"sip_provisioning":"ok"'), server)
        assert ready.status_code == 200
        for _ in range(4):  # every worker reports the same
            assert _ready(base).json()["checks"]["sip_provisioning"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=30)
    # once per deployment: the master provisioned, not each of the two workers
    assert len(livekit.calls_to("CreateSIPInboundTrunk")) == 1
    assert len(livekit.calls_to("CreateSIPDispatchRule")) == 1
    assert [t.name for t in livekit.sip_provisioning.inbound_trunks.values()] == ["sayna-call--trunk"]
    assert [r.name for r in livekit.sip_provisioning.dispatch_rules.values()] == ["sayna-call--dispatch"]


def test_an_unreachable_livekit_keeps_the_server_up_but_not_ready(tmp_path, database_url):
    server, base = _serve(tmp_path, database_url, unused_port_url())
    try:
        failing = _until(lambda: _answer_containing(base, "unreachable"), server)
        assert failing.status_code == 503 and failing.json()["status"] == "unavailable"
        assert failing.json()["checks"]["database"] == "ok"
        assert requests.get(base + "/", timeout=5).json() == {"status": "ok"}
    finally:
        server.terminate()
        server.wait(timeout=30)
