"""A fleet behaves as one cache: three hosts, each its own gunicorn (two workers) and CACHE_PATH, sharing one
PostgreSQL (the index and its advisory locks) and one S3 bucket (moto's server), in front of one fake
Deepgram that counts its calls.

PostgreSQL is required (TEST_DATABASE_URL; `tox -e s3` sets it): without it this file fails in CI
(CI=true) and is skipped elsewhere. The hosts share the database for the whole module, so no test here
uses the per-test `database` fixtures (they reset the schema under the running hosts); each test speaks
its own prompts instead."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest
import requests

from tests.fakes.deepgram import FakeDeepgram
from tests.fakes.s3 import GatedS3Proxy
from tests.fakes.server import FakeServer
from tests.required import missing
from tests.serving import GUNICORN, ROOT, free_port, gunicorn_env

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
DEEPGRAM_KEY = "dg-fleet-key"
TTS_CONFIG = {"provider": "deepgram", "voice_id": "aura-asteria-en", "audio_format": "linear16", "sample_rate": 24000}
CONCURRENT_MISSES = 64
KILLS = 20


def _postgres_url() -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    missing("the fleet shares one PostgreSQL: set TEST_DATABASE_URL (tox -e s3 does)")


class Host:
    """One host of the fleet: gunicorn as deployed, in its own process group (so SIGKILL takes it all)."""

    def __init__(self, name: str, root: Path, env: dict[str, str]):
        self.name, self.root, self.env = name, root, env
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.session = requests.Session()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Host:
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        with open(self.root / "gunicorn.log", "ab") as log:
            self.process = subprocess.Popen(
                GUNICORN,
                env=self.environment(PORT=str(self.port)),
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(self.url + "/", timeout=5)
                return self
            except (requests.ConnectionError, requests.Timeout):  # booting on a busy machine
                assert self.process.poll() is None, self.log()
                assert time.monotonic() < deadline, f"host {self.name} did not start\n{self.log()}"
                time.sleep(0.1)

    def environment(self, **extra: str) -> dict[str, str]:
        return gunicorn_env(self.root, **{**self.env, **extra})

    def kill(self) -> None:
        """SIGKILL, master and workers at once: no shutdown hook, no atexit, no writer thread finishes."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        self.session.close()

    def speak(self, text: str) -> requests.Response:
        return self.session.post(self.url + "/speak", json={"text": text, "tts_config": TTS_CONFIG}, timeout=60)

    def cli(self, *args: str, **env: str) -> str:
        """`flask cache ...` run on this host (its settings, its CACHE_PATH), as an operator runs it."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "cache", *args],
            cwd=ROOT,
            env=self.environment(**env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def log(self) -> str:
        path = self.root / "gunicorn.log"
        return path.read_text(errors="replace") if path.exists() else ""


class Fleet:
    def __init__(self, hosts: dict[str, Host], deepgram: FakeDeepgram, s3, bucket: str, env: dict[str, str]):
        self.hosts, self.deepgram, self.s3, self.bucket, self.env = hosts, deepgram, s3, bucket, env

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def provider_calls(self) -> int:
        return len(self.deepgram.speak_calls)

    def objects(self) -> dict[str, bytes]:
        """Every blob of the cache in the bucket, by name."""
        return {key.split("/", 1)[1]: self.s3.get(self.bucket, key) for key in self.s3.keys(self.bucket, "cache/")}

    def rows(self) -> list[tuple[str, str, str, int]]:
        """(key, audio format, checksum, size) of every index row."""
        with psycopg.connect(_plain(_postgres_url())) as connection:
            return connection.execute("SELECT key, audio_format, checksum, size_bytes FROM cache_entries").fetchall()

    def logs(self) -> str:
        return "\n".join(f"--- host {name}\n{host.log()[-4000:]}" for name, host in self.hosts.items())


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, s3_server):
    url = _postgres_url()
    with psycopg.connect(_plain(url), autocommit=True) as connection:  # the hosts migrate it on start
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")
    deepgram = FakeDeepgram(api_key=DEEPGRAM_KEY)
    bucket = s3_server.new_bucket()
    root = tmp_path_factory.mktemp("fleet")
    with FakeServer(deepgram.app) as provider:
        env = {
            "DATABASE_URL": url,
            "DEEPGRAM_API_KEY": DEEPGRAM_KEY,
            "DEEPGRAM_BASE_URL": provider.url,
            "TTS_MAX_RETRIES": "0",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "32",  # every one of the concurrent requests is taken at once
            "LOG_LEVEL": "WARNING",
            **s3_server.cache_env(bucket),
        }
        hosts = {name: Host(name, root / f"host-{name}", env) for name in "abc"}
        try:
            for host in hosts.values():
                host.start()
            yield Fleet(hosts, deepgram, s3_server, bucket, env)
        finally:
            for host in hosts.values():
                host.stop()


def _prompt(purpose: str) -> str:
    return f"{purpose} {uuid.uuid4().hex[:8]}"


def test_concurrent_identical_misses_spread_over_three_hosts_make_one_provider_call(fleet):
    text, before = _prompt("Sixty-four callers ask at once"), fleet.provider_calls()
    body = json.dumps({"text": text, "tts_config": TTS_CONFIG}).encode()
    gate, barrier = threading.Event(), threading.Barrier(CONCURRENT_MISSES)
    sent = threading.Semaphore(0)
    answers: list[tuple[int, str | None, bytes]] = []
    lock = threading.Lock()

    def ask(number: int) -> None:
        host = fleet[("a", "b", "c")[number % 3]]
        connection = http.client.HTTPConnection("127.0.0.1", host.port, timeout=90)
        try:
            barrier.wait(timeout=60)
            connection.request("POST", "/speak", body=body, headers={"Content-Type": "application/json"})
            sent.release()  # the whole request is on the host's socket
            response = connection.getresponse()
            answer = (response.status, response.getheader("x-cache"), response.read())
        finally:
            connection.close()
        with lock:
            answers.append(answer)

    fleet.deepgram.speak_gate = gate  # the provider answers only once every request has been sent
    threads = [threading.Thread(target=ask, args=(n,)) for n in range(CONCURRENT_MISSES)]
    try:
        for thread in threads:
            thread.start()
        for _ in range(CONCURRENT_MISSES):
            assert sent.acquire(timeout=60), "a request could not be sent"
        gate.set()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        gate.set()
        fleet.deepgram.speak_gate = None
    assert len(answers) == CONCURRENT_MISSES, fleet.logs()
    assert Counter(status for status, _, _ in answers) == {200: CONCURRENT_MISSES}, fleet.logs()
    assert len({audio for _, _, audio in answers}) == 1  # every answer byte-identical
    assert fleet.provider_calls() - before == 1
    assert Counter(cache for _, cache, _ in answers)["MISS"] == 1


def test_a_prompt_synthesized_on_host_a_is_a_hit_on_host_c_with_no_provider_call(fleet):
    text = _prompt("Synthesized on one host")
    first = fleet["a"].speak(text)
    assert (first.status_code, first.headers["x-cache"]) == (200, "MISS")
    calls = fleet.provider_calls()
    for host in ("c", "b", "c"):
        again = fleet[host].speak(text)
        assert (again.status_code, again.headers["x-cache"]) == (200, "HIT"), again.text
        assert again.content == first.content
    assert fleet.provider_calls() == calls


def test_prune_and_clear_on_host_b_while_a_and_c_serve_give_no_error_and_no_wrong_audio(fleet):
    texts = [_prompt(f"Served while host b cleans up {n}") for n in range(12)]
    expected = {}
    for text in texts:
        answer = fleet["a"].speak(text)
        assert answer.status_code == 200
        expected[text] = answer.content
    done, lock = threading.Event(), threading.Lock()
    seen: Counter = Counter()
    wrong: list[str] = []

    def serve(host: Host, offset: int) -> None:
        n = offset
        while not done.is_set():
            text = texts[n % len(texts)]
            n += 1
            answer = host.speak(text)
            with lock:
                seen[answer.status_code] += 1
                if answer.status_code == 200 and answer.content != expected[text]:
                    wrong.append(text)

    servers = [threading.Thread(target=serve, args=(fleet[name], k)) for k, name in enumerate("acac")]
    for thread in servers:
        thread.start()
    try:
        before = sum(seen.values())
        pruned = fleet["b"].cli("prune")
        cleared = fleet["b"].cli("clear", "--provider", "deepgram", "--yes")
        pruned_again = fleet["b"].cli("prune")
        during = sum(seen.values()) - before
    finally:
        done.set()
        for thread in servers:
            thread.join(timeout=120)
    assert "expired: 0" in pruned and "removed" in cleared and "of deepgram" in cleared, (pruned, cleared)
    assert "orphan files: 0" in pruned_again, pruned_again
    assert during > 0  # host b's maintenance ran while a and c served
    assert set(seen) == {200}, (seen, fleet.logs())
    assert wrong == []
    for text in texts:  # the fleet still serves every prompt, the same audio
        assert fleet["c"].speak(text).content == expected[text]


def test_a_host_killed_during_its_s3_writes_leaves_no_row_without_its_blob_and_prune_removes_its_orphans(
    fleet, tmp_path
):
    proxy = GatedS3Proxy(fleet.s3.url)
    answered: dict[str, bytes] = {}
    with FakeServer(proxy) as gated:
        victim = Host("k", tmp_path / "host-k", {**fleet.env, "CACHE_S3_ENDPOINT": gated.url, "WEB_CONCURRENCY": "1"})
        try:
            for round_number in range(KILLS):
                # even rounds: killed before S3 has the blob; odd rounds: after S3 wrote it, before its row
                proxy.hold("before" if round_number % 2 == 0 else "after")
                victim.start()
                text = _prompt(f"Killed while writing {round_number}")
                answer = victim.speak(text)  # a miss answers before its entry is written
                assert answer.status_code == 200, victim.log()
                answered[text] = answer.content
                assert proxy.arrived.wait(timeout=60), f"no S3 write in round {round_number}\n{victim.log()}"
                victim.kill()
                proxy.release()
        finally:
            proxy.release()
            victim.stop()
    objects, rows = fleet.objects(), fleet.rows()
    for key, audio_format, checksum, size in rows:  # no row without its blob, and that blob is the row's
        blob = next((data for name, data in objects.items() if name.startswith(key + ".")), None)
        assert blob is not None, f"row {key} ({audio_format}) has no blob"
        assert (hashlib.sha256(blob).hexdigest(), len(blob)) == (checksum, size)
    indexed = {key for key, _, _, _ in rows}
    orphans = [name for name in objects if name.split(".", 1)[0] not in indexed]
    assert len(orphans) == KILLS // 2  # the writes S3 completed, whose writer died before the row
    # within the grace period a row may be coming: left alone
    assert "orphan files: 0" in fleet["b"].cli("prune", CACHE_ORPHAN_GRACE_SECONDS="3600")
    assert set(fleet.objects()) == set(objects)
    assert f"orphan files: {KILLS // 2}" in fleet["b"].cli("prune", CACHE_ORPHAN_GRACE_SECONDS="0")
    assert {name.split(".", 1)[0] for name in fleet.objects()} == indexed
    for text, audio in answered.items():  # the other hosts serve every prompt, and the right audio
        for host in ("a", "c"):
            again = fleet[host].speak(text)
            assert (again.status_code, again.content) == (200, audio)
