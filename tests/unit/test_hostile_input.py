"""Input built to break the server is a 400 or a 413 with our JSON error, never a 500: malformed JSON,
values no layer can store, bounds that keep one request from exhausting a worker. On SQLite and
PostgreSQL (the hook store is where PostgreSQL refused what SQLite took)."""

from __future__ import annotations

import json
import socket
import tracemalloc

import pytest

from app.services.tts.request import Pronunciation, TextTooLong, apply_pronunciations
from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET, sign_webhook
from tests.serving import gunicorn

_JSON_ROUTES = [
    ("POST", "/speak", '{"text": {value}}'),
    ("POST", "/livekit/token", '{"room_name": {value}, "participant_name": "a", "participant_identity": "b"}'),
    ("POST", "/sip/hooks", '{"hooks": [{"host": {value}, "url": "https://hooks.example.com/sip"}]}'),
    ("DELETE", "/sip/hooks", '{"hosts": [{value}]}'),
]
_HOSTILE_VALUES = {
    "lone surrogate": r'"\ud800"',
    "NUL character": r'"a\u0000b"',
    "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "integer of 5,000 digits": "1" * 5_000,
    "NaN": "NaN",
    "Infinity": "-Infinity",
}


@pytest.fixture
def client(make_app, livekit):
    app = make_app(
        LIVEKIT_URL=livekit.url.replace("http://", "ws://"),
        LIVEKIT_API_KEY=TEST_API_KEY,
        LIVEKIT_API_SECRET=TEST_API_SECRET,
        SIP_ROOM_PREFIX="sip-",
    )
    return app.test_client()


def _invalid(response, code: str = "invalid_request", status: int = 400) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"error", "code"} and body["code"] == code, body
    return body["error"]


@pytest.mark.parametrize("value", _HOSTILE_VALUES.values(), ids=_HOSTILE_VALUES.keys())
@pytest.mark.parametrize(("method", "path", "template"), _JSON_ROUTES, ids=[f"{m} {p}" for m, p, _ in _JSON_ROUTES])
def test_malformed_or_unstorable_json_is_a_400_on_every_route(client, method, path, template, value):
    body = template.replace("{value}", value)
    response = client.open(path, method=method, data=body, content_type="application/json")
    assert _invalid(response).startswith("Invalid JSON body: ")


@pytest.mark.parametrize("value", _HOSTILE_VALUES.values(), ids=_HOSTILE_VALUES.keys())
def test_a_signed_webhook_with_hostile_json_is_a_400(client, value):
    body = '{"event": "room_finished", "room": {"name": {value}}}'.replace("{value}", value).encode()
    response = client.post(
        "/livekit/webhook",
        data=body,
        content_type="application/webhook+json",
        headers={"Authorization": sign_webhook(body, TEST_API_KEY, TEST_API_SECRET)},
    )
    _invalid(response, code="invalid_webhook_event")


@pytest.mark.parametrize("url", ["/livekit/rooms/a%00b", "/livekit/rooms/a?x=%00", "/voices?%00=1"])
def test_a_nul_in_the_path_or_query_is_a_400(client, url):
    assert _invalid(client.get(url)) == "Invalid URL: a string holds a NUL character"


@pytest.mark.parametrize("timeout", [1e308, 3600.5, 0, -1])
@pytest.mark.parametrize("name", ["request_timeout", "connection_timeout"])
def test_timeouts_out_of_range_are_a_400(client, name, timeout):
    response = client.post("/speak", json={"text": "Hi", "tts_config": {name: timeout}})
    assert _invalid(response).startswith(f"tts_config.{name}: ")


def test_the_longest_timeout_is_accepted(client):
    response = client.post("/speak", json={"text": "Hi", "tts_config": {"request_timeout": 3600}})
    assert response.status_code == 200


def test_pronunciations_are_bounded(client):
    too_many = [{"word": f"w{i}", "pronunciation": "x"} for i in range(101)]
    assert _invalid(client.post("/speak", json={"text": "Hi", "pronunciations": too_many})).startswith(
        "pronunciations: "
    )
    long_word = [{"word": "w" * 101, "pronunciation": "x"}]
    assert _invalid(client.post("/speak", json={"text": "Hi", "pronunciations": long_word})).startswith(
        "pronunciations.0.word: "
    )
    long_pronunciation = [{"word": "w", "pronunciation": "x" * 501}]
    _invalid(client.post("/speak", json={"text": "Hi", "pronunciations": long_pronunciation}))


def test_amplifying_pronunciations_stop_before_the_text_outgrows_the_limit():
    # Each rewrite multiplies the text by ten: six of them would build a 40-million-character text.
    amplifying = tuple(Pronunciation("a", "a" * 10) for _ in range(6))
    tracemalloc.start()
    try:
        with pytest.raises(TextTooLong) as refused:
            apply_pronunciations("a" * 40, amplifying, limit=5_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.length == 40_000  # the first rewrite over the limit, computed, never built
    assert peak < 100_000


def test_an_amplifying_request_answers_text_too_long(client):
    body = {"text": "a" * 40, "pronunciations": [{"word": "a", "pronunciation": "a" * 10}] * 9}
    message = _invalid(client.post("/speak", json=body), code="text_too_long")
    assert message == "text is 40000 characters long; local accepts at most 5000"


@pytest.mark.parametrize(
    "entry",
    [
        {"host": "h" * 256, "url": "https://hooks.example.com/sip"},
        {"host": "sip.example.com", "url": "https://hooks.example.com/" + "p" * 2048},
        {"host": "sip.example.com", "url": "https://hooks.example.com/sip", "auth_id": "t" * 256},
        {"host": "sip.exa\tmple.com", "url": "https://hooks.example.com/sip"},
        {"host": "sip.example.com", "url": "https://hooks.example.com/\x1bsip"},
    ],
    ids=["host over 255", "url over 2048", "auth_id over 255", "control character in host", "escape in url"],
)
def test_hook_values_the_store_cannot_hold_are_a_400(client, entry):
    _invalid(client.post("/sip/hooks", json={"hooks": [entry]}))
    assert client.get("/sip/hooks").get_json() == {"hooks": []}


def test_the_longest_hook_values_are_stored(client):
    entry = {"host": "h" * 255, "url": "https://hooks.example.com/" + "p" * 2000, "auth_id": "t" * 255}
    response = client.post("/sip/hooks", json={"hooks": [entry]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["hooks"] == [entry]


@pytest.mark.parametrize("body", [None, ""], ids=["no body", "empty body"])
def test_posting_hooks_without_a_body_is_a_400(client, body):
    message = _invalid(client.post("/sip/hooks", data=body, content_type="application/json"))
    assert message == "hooks: Missing data for required field."


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def test_a_chunked_body_over_the_limit_is_a_413_answered_before_the_rest_is_sent(tmp_path):
    limit = 1 << 20
    with gunicorn(tmp_path) as served, socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(
            b"POST /speak HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sent = 0
        block = b'{"text": "' + b"a" * (64 << 10)
        while sent <= limit + (64 << 10):  # a little over the limit, then nothing: a 50 MB body is "still coming"
            sock.sendall(_chunk(block))
            sent += len(block)
            block = b"a" * (64 << 10)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)  # the server must answer without waiting for the end of the body
            assert data, answer
            answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), head
    assert json.loads(body[body.index(b"{") :]) == {"error": "Request body too large", "code": "payload_too_large"}


def test_a_chunked_body_under_the_limit_is_read_whole(tmp_path):
    with gunicorn(tmp_path) as served, socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        body = json.dumps({"text": "Hello", "pronunciations": [{"word": "x", "pronunciation": "y" * 400}] * 90})
        sock.sendall(
            b"POST /speak HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + b"".join(_chunk(body[i : i + 1000].encode()) for i in range(0, len(body), 1000))
            + b"0\r\n\r\n"
        )
        answer = b""
        while data := sock.recv(65536):
            answer += data
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
