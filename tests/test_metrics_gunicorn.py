"""GET /metrics under gunicorn with two workers: figures summed across workers (prometheus_client's
multiprocess mode), read back with prometheus_client's own text parser."""

import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.serving import GUNICORN, ROOT, free_port, gunicorn_env

TENANT, SECRET = "tenant-acme-7", "metrics-test-secret-123"
TEXTS = ("Metrics across workers", "A second prompt")


def _scrape(base: str) -> dict[str, list]:
    response = requests.get(base + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def _value(families, name: str, sample: str, **labels) -> float:
    return sum(
        s.value
        for s in families.get(name, [])
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    )


def _workers_with_counters(directory, master: int) -> set[int]:
    """Workers that wrote a counter file (the master has one too, from building the app before forking)."""
    return {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob("counter_*.db")} - {master}


def _wait_for(predicate, what: str, server, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = predicate()
            if result:
                return result
        except (requests.ConnectionError, requests.Timeout):  # a worker still booting on a busy machine
            pass
        assert server.poll() is None, server.stderr.read().decode()
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


SERVE = [sys.executable, "-m", "app.serve"]  # what `tox -e serve` runs


@pytest.fixture(params=[(SERVE, False), (GUNICORN, True)], ids=["app.serve-own-dir", "gunicorn-given-dir"])
def gunicorn(request, tmp_path, database_url):
    """gunicorn as `tox -e serve` runs it (its own temporary metrics directory), and plainly with
    PROMETHEUS_MULTIPROC_DIR given, holding a previous run's file."""
    command, given = request.param
    metrics_dir = tmp_path / "metrics"
    extra = {}
    if given:
        metrics_dir.mkdir()
        (metrics_dir / "counter_999999.db").write_bytes(b"left by a previous run")
        extra["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    else:
        extra["TMPDIR"] = str(tmp_path)  # where gunicorn.conf.py makes its own directory
    port = free_port()
    env = gunicorn_env(
        tmp_path,
        PORT=str(port),
        DATABASE_URL=database_url,
        **extra,
        AUTH_REQUIRED="true",
        AUTH_API_SECRETS_JSON=f'[{{"id": "{TENANT}", "secret": "{SECRET}"}}]',
        LOG_LEVEL="WARNING",
    )
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: requests.get(base + "/", timeout=5).ok, "gunicorn did not start", server, timeout=60)
        if not given:
            [metrics_dir] = tmp_path.glob("sayna-metrics-*")
        yield base, metrics_dir, server
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        server.stderr.close()


def test_metrics_sum_traffic_of_both_workers_and_carry_no_tenant_text_or_secret(gunicorn):
    base, metrics_dir, server = gunicorn
    auth = {"Authorization": f"Bearer {SECRET}"}
    assert not (metrics_dir / "counter_999999.db").exists(), "a previous run's file was not removed"

    # New connections each time: gunicorn's workers take turns until both have answered some.
    speaks = 0
    for text in TEXTS:
        for _ in range(2):  # the second one is a cache hit
            response = requests.post(base + "/speak", json={"text": text}, headers=auth, timeout=60)
            assert response.status_code == 200 and response.headers["x-cache"] == ("MISS" if _ == 0 else "HIT")
            speaks += 1
    refused = 0
    while len(_workers_with_counters(metrics_dir, server.pid)) < 2:
        assert refused < 500, "only one worker ever answered"
        assert requests.get(base + "/voices", timeout=10).status_code == 401
        refused += 1
    assert requests.get(base + "/livekit/rooms/some-room-of-acme", headers=auth, timeout=10).status_code == 500

    families = _scrape(base)
    total = "sayna_http_requests_total"
    assert _value(families, "sayna_http_requests", total, method="POST", route="/speak", status="200") == speaks
    assert _value(families, "sayna_http_requests", total, method="GET", route="/voices", status="401") == refused
    assert _value(families, "sayna_http_requests", total, route="/livekit/rooms/<path:room_name>") == 1
    assert (
        _value(
            families,
            "sayna_http_request_duration_seconds",
            "sayna_http_request_duration_seconds_count",
            method="POST",
            route="/speak",
        )
        == speaks
    )
    assert _value(families, "sayna_cache_lookups", "sayna_cache_lookups_total", result="miss") == len(TEXTS)
    assert _value(families, "sayna_cache_lookups", "sayna_cache_lookups_total", result="hit") == len(TEXTS)
    assert _value(
        families, "sayna_provider_requests", "sayna_provider_requests_total", provider="local", outcome="ok"
    ) == len(TEXTS)
    assert _value(
        families,
        "sayna_provider_request_duration_seconds",
        "sayna_provider_request_duration_seconds_count",
        provider="local",
    ) == len(TEXTS)
    assert _value(families, "sayna_cache_entries", "sayna_cache_entries") == len(TEXTS)
    assert _value(families, "sayna_cache_bytes", "sayna_cache_bytes") > 0
    assert _value(families, "sayna_workers", "sayna_workers") == 2

    label_values = {value for samples in families.values() for s in samples for value in s.labels.values()}
    for forbidden in (TENANT, SECRET, *TEXTS, "some-room-of-acme"):
        assert not any(forbidden.lower() in value.lower() for value in label_values), forbidden


def test_a_killed_worker_is_replaced_and_no_longer_counted_while_its_requests_still_are(gunicorn):
    base, metrics_dir, server = gunicorn
    before = _value(_scrape(base), "sayna_http_requests", "sayna_http_requests_total", route="/")
    answered = 0
    while len(_workers_with_counters(metrics_dir, server.pid)) < 2:
        assert answered < 500, "only one worker ever answered"
        assert requests.get(base + "/", timeout=10).status_code == 200
        answered += 1
    survivors = _worker_pids(server.pid)
    victim = min(_workers_with_counters(metrics_dir, server.pid))
    os.kill(victim, signal.SIGKILL)
    survivors.discard(victim)
    replacement = _wait_for(
        lambda: _worker_pids(server.pid) - survivors - {victim}, "gunicorn did not replace the worker", server
    ).pop()
    # The replacement has counted itself (its live gauge file exists): from now on a dead worker still
    # counted would show as 3.
    _wait_for(lambda: (metrics_dir / f"gauge_livesum_{replacement}.db").exists(), "no gauge file", server)
    _wait_for(
        lambda: _value(_scrape(base), "sayna_workers", "sayna_workers") == 2,
        "sayna_workers did not settle at 2: the dead worker is still counted",
        server,
        timeout=10,
    )
    families = _scrape(base)
    assert _value(families, "sayna_http_requests", "sayna_http_requests_total", route="/") == before + answered


def _worker_pids(master: int) -> set[int]:
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    return {int(pid) for pid in children.split()}
