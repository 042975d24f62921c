"""Hits of known /speak requests are answered in front of Flask (app/api/speak/fast_hits.py): through
gunicorn, such an answer is the one Flask's route gives, and is counted, timed and logged the same way."""

from __future__ import annotations

import json
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.serving import gunicorn

PROMPT = "/speak?text=Answered%20in%20front%20of%20Flask"
SDK_BODY = json.dumps({"text": "The SDK's prompt, answered in front of Flask", "tts_config": {"provider": "local"}})
SECRET = "fast-hits-secret-1"
# Headers that differ between any two answers
_PER_ANSWER = {"Date", "X-Request-ID"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("fast-hits"), WEB_CONCURRENCY="1", CACHE_TTL_SECONDS="3600") as served:
        yield served


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    env = {"AUTH_REQUIRED": "true", "AUTH_API_SECRETS_JSON": json.dumps([{"id": "tenant-a", "secret": SECRET}])}
    with gunicorn(tmp_path_factory.mktemp("fast-hits-auth"), WEB_CONCURRENCY="1", **env) as served:
        yield served


def _stored(send) -> requests.Response:
    """The answer once the entry is stored (it is stored just after a miss's answer)."""
    deadline = time.monotonic() + 10
    while True:
        response = send()
        assert response.status_code == 200, response.text
        if response.headers["x-cache"] == "HIT" and "Last-Modified" in response.headers:
            return response
        assert time.monotonic() < deadline, dict(response.headers)


def _headers(response: requests.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in _PER_ANSWER}


def test_a_known_get_hit_is_the_answer_flasks_route_gives(server):
    fast = _stored(lambda: requests.get(server.url + PROMPT, timeout=10))
    # a condition that does not hold sends the request through Flask's route, which answers in full
    routed = requests.get(server.url + PROMPT, headers={"If-None-Match": '"another"'}, timeout=10)
    assert routed.status_code == 200
    assert (fast.content, _headers(fast)) == (routed.content, _headers(routed))
    assert list(fast.raw.headers) == list(routed.raw.headers)  # the SDK reads x-* headers case-sensitively


def test_a_known_post_hit_in_the_sdks_form_is_the_answer_flasks_route_gives(server):
    headers = {"Content-Type": "application/json"}
    fast = _stored(lambda: requests.post(server.url + "/speak", data=SDK_BODY, headers=headers, timeout=10))
    # a chunked body (no length) is left to Flask
    routed = requests.post(server.url + "/speak", data=iter([SDK_BODY.encode()]), headers=headers, timeout=10)
    assert routed.status_code == 200 and "chunked" in routed.request.headers["Transfer-Encoding"]
    assert len(fast.content) > 1000 and fast.headers["Content-Type"].startswith("audio/")
    assert (fast.content, _headers(fast)) == (routed.content, _headers(routed))


def test_the_json_form_of_a_known_post_is_still_json(server):
    body = json.dumps({"text": "A flat prompt answered as JSON", "provider": "local"})
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    for _ in range(3):
        response = requests.post(server.url + "/speak", data=body, headers=headers, timeout=10)
        assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
        assert response.json()["metadata"]["provider"] == "local"


def test_hits_answered_in_front_of_flask_keep_the_request_id_and_are_logged(server):
    _stored(lambda: requests.get(server.url + PROMPT, timeout=10))
    given = requests.get(server.url + PROMPT, headers={"X-Request-ID": "fast-hit-0001"}, timeout=10)
    assert given.headers["X-Request-ID"] == "fast-hit-0001"
    made = requests.get(server.url + PROMPT, headers={"X-Request-ID": "not a valid id!"}, timeout=10)
    assert len(made.headers["X-Request-ID"]) == 32 and int(made.headers["X-Request-ID"], 16) >= 0
    assert made.headers["X-Request-ID"] != requests.get(server.url + PROMPT, timeout=10).headers["X-Request-ID"]

    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
        logged = [line for line in lines if line.get("request_id") == "fast-hit-0001"]
        if logged or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [(line["method"], line["path"], line["status"]) for line in logged] == [("GET", "/speak", 200)]
    assert "text=" not in server.log_text()  # the line names the path, never the query


def test_hits_answered_in_front_of_flask_are_counted_and_timed(server):
    _stored(lambda: requests.get(server.url + PROMPT, timeout=10))
    before = _samples(server)
    for _ in range(5):
        assert requests.get(server.url + PROMPT, timeout=10).headers["x-cache"] == "HIT"
    after = _samples(server)
    assert after["count"] - before["count"] == 5
    assert after["timed"] - before["timed"] == 5


def _samples(server) -> dict[str, float]:
    text = requests.get(server.url + "/metrics", timeout=10).text
    found = {"count": 0.0, "timed": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if labels.get("route") != "/speak" or labels.get("method") != "GET":
                continue
            if sample.name == "sayna_http_requests_total" and labels.get("status") == "200":
                found["count"] += sample.value
            elif sample.name == "sayna_http_request_duration_seconds_count":
                found["timed"] += sample.value
    return found


def test_with_auth_a_known_hit_still_needs_the_token(secured):
    bearer = {"Authorization": f"Bearer {SECRET}"}
    hit = _stored(lambda: requests.get(secured.url + PROMPT, headers=bearer, timeout=10))
    assert hit.headers["Cache-Control"] == "private"
    logged = requests.get(secured.url + PROMPT, headers={**bearer, "X-Request-ID": "auth-hit-1"}, timeout=10)
    assert logged.status_code == 200 and logged.content == hit.content
    for refused in ({}, {"Authorization": "Bearer not-the-secret"}):
        response = requests.get(secured.url + PROMPT, headers=refused, timeout=10)
        assert response.status_code == 401 and response.json()["code"] in ("missing_auth_header", "unauthorized")
    by_query = requests.get(f"{secured.url}{PROMPT}&api_key={SECRET}", timeout=10)
    assert by_query.status_code == 200 and by_query.content == hit.content
    assert requests.get(f"{secured.url}{PROMPT}&api_key=wrong", timeout=10).status_code == 401

    deadline = time.monotonic() + 10
    while '"request_id": "auth-hit-1"' not in secured.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [json.loads(line) for line in secured.log_text().splitlines() if '"request_id": "auth-hit-1"' in line]
    assert [line.get("tenant") for line in lines] == ["tenant-a"]
    assert SECRET not in secured.log_text()
