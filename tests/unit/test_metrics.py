"""What each instrument records, in one process (the two-worker exposition is tests/test_metrics_gunicorn.py)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.errors import BadRequest
from app.services.cache import AudioMeta, EntryLabel, LiveFollower, PendingEntry, SynthesisCache
from app.services.livekit import LiveKitClient, LiveKitError, LiveKitUnreachable
from app.services.metrics.instruments import REGISTRY
from app.services.tts import SpeechOrder
from app.settings import CacheSettings
from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET
from tests.fakes.server import unused_port_url


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_public_by_default_in_prometheus_text_format(make_app):
    client = make_app(AUTH_REQUIRED="true", AUTH_API_SECRET="an-api-secret").test_client()
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain; version=0.0.4")
    names = {family.name for family in text_string_to_metric_families(response.get_data(as_text=True))}
    assert {"sayna_http_requests", "sayna_cache_entries", "sayna_cache_bytes"} <= names


def test_metrics_token_is_required_as_a_bearer_token_when_set(make_app):
    client = make_app(METRICS_TOKEN="scrape-token-1").test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic scrape-token-1"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401 and response.json["code"] == "unauthorized"
        assert "scrape-token-1" not in response.get_data(as_text=True)
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-token-1"}).status_code == 200


def test_metrics_enabled_false_removes_the_endpoint_and_records_nothing(make_app):
    client = make_app(METRICS_ENABLED="false").test_client()
    before = _sample("sayna_http_requests_total", method="GET", route="/", status="200")
    assert client.get("/metrics").status_code == 404
    assert client.get("/").status_code == 200
    assert _sample("sayna_http_requests_total", method="GET", route="/", status="200") == before


def test_requests_are_labelled_by_route_template_never_by_raw_path(make_app):
    client = make_app(RECORDING_BACKEND="none").test_client()
    template = {"method": "GET", "route": "/recording/<stream_id:stream_id>", "status": "503"}
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    before, before_unmatched = (
        _sample("sayna_http_requests_total", **template),
        _sample("sayna_http_requests_total", **unmatched),
    )
    assert client.get("/recording/call-of-customer-42").status_code == 503
    assert client.get("/no/such/path-secret-ish").status_code == 404
    assert _sample("sayna_http_requests_total", **template) == before + 1
    assert _sample("sayna_http_requests_total", **unmatched) == before_unmatched + 1
    text = client.get("/metrics").get_data(as_text=True)
    assert "call-of-customer-42" not in text and "path-secret-ish" not in text


def test_provider_requests_are_counted_by_outcome_and_timed(app):
    speech = app.extensions["services"].speech
    ok = _sample("sayna_provider_requests_total", provider="local", outcome="ok")
    rejected = _sample("sayna_provider_requests_total", provider="local", outcome="unknown_voice")
    timed = _sample("sayna_provider_request_duration_seconds_count", provider="local")
    speech.speak(SpeechOrder(text="counted once"))
    speech.speak(SpeechOrder(text="counted once"))  # a hit: no provider request
    with pytest.raises(BadRequest):
        speech.speak(SpeechOrder(text="no such voice", voice_id="elvish"))
    assert _sample("sayna_provider_requests_total", provider="local", outcome="ok") == ok + 1
    assert _sample("sayna_provider_requests_total", provider="local", outcome="unknown_voice") == rejected + 1
    assert _sample("sayna_provider_request_duration_seconds_count", provider="local") == timed + 2


def test_cache_lookups_count_hits_and_misses(app):
    speech = app.extensions["services"].speech
    hits, misses = (
        _sample("sayna_cache_lookups_total", result="hit"),
        _sample("sayna_cache_lookups_total", result="miss"),
    )
    for _ in range(3):
        speech.speak(SpeechOrder(text="hit twice"))
    assert _sample("sayna_cache_lookups_total", result="miss") == misses + 1
    assert _sample("sayna_cache_lookups_total", result="hit") == hits + 2


def test_single_flight_counts_a_wait_only_when_another_caller_holds_the_key(database, tmp_path):
    cache = SynthesisCache(CacheSettings(path=tmp_path / "cache"), database)
    label, meta = EntryLabel("local", "en-us", "espeak-ng"), AudioMeta("linear16", 24_000, 1)
    before = _sample("sayna_cache_single_flight_waits_total")
    alone = cache.begin("ab" * 32, label)
    assert isinstance(alone, PendingEntry)
    alone.abort()
    assert _sample("sayna_cache_single_flight_waits_total") == before

    leader = cache.begin("cd" * 32, label)
    follower = cache.begin("cd" * 32, label)
    assert isinstance(leader, PendingEntry) and isinstance(follower, LiveFollower)
    leader.write(b"\x01\x02")
    leader.commit(meta)
    assert b"".join(follower) == b"\x01\x02"
    assert _sample("sayna_cache_single_flight_waits_total") == before + 1
    assert _sample("sayna_cache_single_flight_wait_seconds_count") >= 1
    cache.close()


def test_livekit_call_errors_are_counted_by_method_and_reason(livekit):
    unreachable = LiveKitClient(unused_port_url(), TEST_API_KEY, TEST_API_SECRET, timeout=2)
    before = _sample("sayna_livekit_call_errors_total", method="ListRooms", reason="unreachable")
    with pytest.raises(LiveKitUnreachable):
        unreachable.list_rooms()
    assert _sample("sayna_livekit_call_errors_total", method="ListRooms", reason="unreachable") == before + 1

    client = LiveKitClient(livekit.url, TEST_API_KEY, TEST_API_SECRET, timeout=5)
    livekit.fail("ListRooms", "internal", "database is down for tenant acme")
    before = _sample("sayna_livekit_call_errors_total", method="ListRooms", reason="internal")
    calls = _sample("sayna_livekit_calls_total", method="ListRooms")
    with pytest.raises(LiveKitError):
        client.list_rooms()
    assert _sample("sayna_livekit_call_errors_total", method="ListRooms", reason="internal") == before + 1
    assert _sample("sayna_livekit_calls_total", method="ListRooms") == calls + 1
    unreachable.close()
    client.close()
