"""A binary /speak miss streamed as the provider speaks, through gunicorn (gunicorn.conf.py) and over real
HTTP to the fake Deepgram, which paces its body with events (tests/fakes/pacing.py): "before the provider
has finished" is proved by the fake still holding the rest, never by a clock."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests
from urllib3.exceptions import ProtocolError

from tests.fakes.deepgram import FakeDeepgram
from tests.fakes.pacing import Pacing
from tests.fakes.server import FakeServer
from tests.integration.test_nginx import _proxied
from tests.serving import gunicorn

KEY = "dg-streaming-key"
FIRST = 4096
CHUNK = 1024


@pytest.fixture(scope="module")
def deepgram():
    fake = FakeDeepgram(api_key=KEY)
    with FakeServer(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def pacing(deepgram):
    deepgram.pacing = pacing = Pacing(first=FIRST, hold=True, chunk=CHUNK)
    yield pacing
    pacing.stop()
    deepgram.pacing = None


def _server(tmp_path, deepgram, **env):
    return gunicorn(tmp_path, DEEPGRAM_API_KEY=KEY, DEEPGRAM_BASE_URL=deepgram.url, **env)


@pytest.fixture(scope="module")
def server(tmp_path_factory, deepgram):
    with _server(tmp_path_factory.mktemp("speak-streaming"), deepgram) as served:
        yield served


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory, deepgram):
    with _server(tmp_path_factory.mktemp("speak-streaming-1"), deepgram, WEB_CONCURRENCY="1") as served:
        yield served


def _body(text: str) -> str:
    return json.dumps({"text": text, "tts_config": {"provider": "deepgram", "audio_format": "linear16"}})


def _speak(server, text: str) -> requests.Response:
    response = requests.post(
        server.url + "/speak",
        data=_body(text),
        headers={"Content-Type": "application/json", "Accept": "audio/pcm"},
        stream=True,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response


def _hit(server, text: str) -> requests.Response:
    """The answer from the cached file (until the entry is committed, just after the miss's last chunk, an
    identical request follows the synthesis instead)."""
    deadline = time.monotonic() + 10
    while True:
        response = _speak(server, text)
        response.content  # noqa: B018 - read whole
        assert response.headers["x-cache"] == "HIT", dict(response.headers)
        if "Last-Modified" in response.headers:
            return response
        assert time.monotonic() < deadline, dict(response.headers)


def test_a_miss_arrives_in_chunks_while_the_provider_still_speaks_and_equals_the_following_hit(
    server, deepgram, pacing
):
    pacing.hold_after = 2
    calls = len(deepgram.speak_calls)
    miss = _speak(server, "A streamed miss, heard while the provider still speaks")
    assert miss.headers["x-cache"] == "MISS"
    assert "Content-Length" not in miss.headers and miss.headers["Transfer-Encoding"] == "chunked"
    first = miss.raw.read(FIRST)  # the fake holds everything after its first part
    assert len(first) == FIRST and not pacing.finished.is_set()
    pacing.release.set()
    assert pacing.held_again.wait(10)  # two more chunks went out, and the fake holds the rest again
    second = miss.raw.read(2 * CHUNK)
    assert len(second) == 2 * CHUNK and not pacing.finished.is_set()
    pacing.release_again.set()
    streamed = first + second + miss.raw.read()
    assert pacing.finished.is_set()
    hit = _hit(server, "A streamed miss, heard while the provider still speaks")
    assert hit.content == streamed and len(streamed) > FIRST + 2 * CHUNK
    assert hit.headers["Content-Length"] == str(len(streamed))
    assert len(deepgram.speak_calls) == calls + 1


def test_a_provider_failing_mid_stream_cuts_the_answer_short_and_caches_nothing(server, deepgram, pacing):
    pacing.cut = True
    text = "A stream the provider cuts in the middle"
    calls = len(deepgram.speak_calls)
    miss = _speak(server, text)
    assert len(miss.raw.read(FIRST)) == FIRST
    pacing.release.set()
    with pytest.raises(ProtocolError, match="IncompleteRead"):  # no last chunk: visibly incomplete
        miss.raw.read()
    deepgram.pacing = None  # the provider recovers
    again = _speak(server, text)
    again.content  # noqa: B018 - read whole
    assert again.headers["x-cache"] == "MISS" and len(deepgram.speak_calls) == calls + 2
    assert "speech stream cut short" in server.log_text()


def test_a_caller_hanging_up_does_not_waste_the_synthesis(server, deepgram, pacing):
    text = "A caller who hangs up after the first words"
    calls = len(deepgram.speak_calls)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as caller:
        body = _body(text).encode()
        caller.sendall(
            b"POST /speak HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: audio/pcm\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        assert b" 200 " in caller.recv(FIRST)
        assert pacing.first_sent.wait(10)
    pacing.release.set()  # the rest comes after the caller is gone
    assert pacing.finished.wait(10)
    hit = _hit(server, text)
    assert len(hit.content) > FIRST and len(deepgram.speak_calls) == calls + 1


def test_requests_for_a_prompt_being_streamed_in_the_same_process_follow_it(one_worker, deepgram, pacing):
    text = "A prompt three callers ask for at once"
    calls = len(deepgram.speak_calls)
    leader = _speak(one_worker, text)
    assert leader.headers["x-cache"] == "MISS"
    first = leader.raw.read(FIRST)
    followers = [_speak(one_worker, text) for _ in range(3)]
    for follower in followers:  # the leader's audio so far, while the provider still holds the rest
        assert follower.headers["x-cache"] == "HIT" and "Content-Length" not in follower.headers
        assert follower.raw.read(FIRST) == first
    assert not pacing.finished.is_set()
    pacing.release.set()
    whole = first + leader.raw.read()
    assert all(first + follower.raw.read() == whole for follower in followers)
    assert len(deepgram.speak_calls) == calls + 1


def test_behind_the_shipped_nginx_a_miss_still_arrives_while_the_provider_speaks(
    tmp_path, database_url, deepgram, pacing
):
    with _proxied(tmp_path, database_url, DEEPGRAM_API_KEY=KEY, DEEPGRAM_BASE_URL=deepgram.url) as (url, _):
        miss = requests.post(
            url + "/speak",
            data=_body("A streamed miss through nginx"),
            headers={"Content-Type": "application/json", "Accept": "audio/pcm"},
            stream=True,
            timeout=30,
        )
        assert miss.status_code == 200 and miss.headers["x-cache"] == "MISS"
        first = miss.raw.read(FIRST)  # nginx's buffering passes what arrives on: it does not wait for the end
        assert len(first) == FIRST and not pacing.finished.is_set()
        pacing.release.set()
        assert len(first + miss.raw.read()) > FIRST and pacing.finished.is_set()
