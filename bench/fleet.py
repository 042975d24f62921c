"""The synthesis cache as a fleet (issue #11): hosts sharing one PostgreSQL and one S3 bucket, measured side by
side in one run.

What it compares (gunicorn with the project's gunicorn.conf.py; the fake Deepgram and moto's S3 server each in
their own process; one PostgreSQL):
  1. provider calls made by 64 concurrent identical misses spread over 3 hosts (each its own gunicorn and
     CACHE_PATH, CACHE_BACKEND=s3), started on a barrier, for several prompts (goal exactly 1 each);
  2. cache-hit throughput of POST /speak on a host with CACHE_BACKEND=s3 (hits served from its local copy)
     ÷ the same host with CACHE_BACKEND=file (goal >= 0.9), both on the PostgreSQL index; rounds alternate
     the two, medians are compared;
  3. what the fleet lock adds to a miss: p50 of SynthesisCache.get_or_synthesize misses on PostgreSQL with
     the advisory lock, with flock (one host's lock, as on SQLite) and with no lock at all, in one process,
     interleaved (goal: advisory − none <= 2 ms p50).

Needs PostgreSQL: --database (default postgresql://postgres@127.0.0.1:5432/bench_fleet, created when absent;
its schema is dropped and migrated again).
Run by hand (not in CI):  /work/main/.tox/py311/bin/python bench/fleet.py [--workers 2] [--threads 4] [--seconds 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speak import DEEPGRAM_KEY, FAKE_SCRIPT, PYTHON, ROOT, Gunicorn, request, throughput  # noqa: E402

sys.path.insert(0, str(ROOT))
MOTO_SCRIPT = """
import threading
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
threading.Event().wait()
"""
HOSTS = 3
CONCURRENT_MISSES = 64
TTS_CONFIG = {"provider": "deepgram", "voice_id": "aura-asteria-en", "audio_format": "linear16", "sample_rate": 24000}
HEADERS = {"Content-Type": "application/json", "Accept": "*/*"}


def speak_body(text: str) -> bytes:
    return json.dumps({"text": text, "tts_config": TTS_CONFIG}).encode()


def provider_calls(fake_port: int) -> int:
    return json.loads(request(fake_port, "GET", "/_calls", None, {})[2])


def concurrent_misses(hosts: list[Gunicorn], fake_port: int, text: str) -> tuple[int, int]:
    """(provider calls, distinct answers) for CONCURRENT_MISSES identical requests started on one barrier."""
    before, body = provider_calls(fake_port), speak_body(text)
    barrier, answers, lock = threading.Barrier(CONCURRENT_MISSES), [], threading.Lock()

    def ask(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", hosts[number % len(hosts)].port, timeout=60)
        connection.connect()
        barrier.wait()
        status, _, audio = request(0, "POST", "/speak", body, HEADERS, connection)
        connection.close()
        assert status == 200, status
        with lock:
            answers.append(audio)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(CONCURRENT_MISSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return provider_calls(fake_port) - before, len(set(answers))


def miss_latencies(database_url: str, scratch: Path, misses: int) -> dict[str, float]:
    """p50 (ms) of get_or_synthesize misses per lock, interleaved; the writer's commit is left out of the
    timing (it runs after the answer) but done before the next miss."""
    from app.db import Database
    from app.db.migrate import upgrade_to_head
    from app.services.cache import EntryLabel, SynthesisCache
    from app.services.cache.flight import AdvisoryLocks, FileLocks, Held
    from app.services.tts.audio import Audio
    from app.settings import CacheSettings

    class NoLocks:
        def acquire(self, key: str, timeout: float) -> Held:
            return Held(lambda: None, waited=False)

        def remove_stale(self, older_than_seconds: float) -> int:
            return 0

        def close(self) -> None:
            pass

    database = Database(database_url)
    upgrade_to_head(database, scratch / ".migrate.lock")
    label, audio = (
        EntryLabel("deepgram", "aura-asteria-en", "aura"),
        Audio(b"\x01\x02" * 12_000, "linear16", 24000, 500),
    )
    caches = {
        "advisory": SynthesisCache(
            CacheSettings(path=scratch / "miss-advisory"), database, locks=AdvisoryLocks(database)
        ),
        "flock": SynthesisCache(
            CacheSettings(path=scratch / "miss-flock"), database, locks=FileLocks(scratch / "miss-flock" / ".locks")
        ),
        "none": SynthesisCache(CacheSettings(path=scratch / "miss-none"), database, locks=NoLocks()),
    }
    timings: dict[str, list[float]] = {name: [] for name in caches}
    try:
        for index in range(misses + 20):  # the first 20 warm the pools and the page cache
            for name, cache in caches.items():
                key = uuid.uuid4().hex * 2
                started = time.perf_counter()
                _, cached = cache.get_or_synthesize(key, label, lambda: audio)
                elapsed = time.perf_counter() - started
                assert not cached
                cache.settle()
                if index >= 20:
                    timings[name].append(elapsed * 1000)
    finally:
        for cache in caches.values():
            cache.close()
        database.dispose()
    return {name: statistics.median(values) for name, values in timings.items()}


def reset_database(url: str) -> None:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    server, name = plain.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/bench_fleet")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one throughput round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--prompts", type=int, default=5, help="prompts asked by 64 concurrent clients each")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="the fake provider's fixed latency")
    parser.add_argument("--misses", type=int, default=200, help="misses per lock for the lock's cost")
    args = parser.parse_args()

    reset_database(args.database)
    scratch = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    helpers = []
    servers: list[Gunicorn] = []
    try:
        for script in (
            FAKE_SCRIPT.format(root=str(ROOT), key=DEEPGRAM_KEY, latency=args.latency_ms / 1000),
            MOTO_SCRIPT,
        ):
            helpers.append(
                subprocess.Popen(
                    [PYTHON, "-c", script],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    start_new_session=True,
                )
            )
        fake_port, moto_port = (int(helper.stdout.readline()) for helper in helpers)
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{moto_port}",
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench-secret",
        )
        s3.create_bucket(Bucket="bench-fleet")
        s3.close()
        common = {
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": args.database,
            "DEEPGRAM_API_KEY": DEEPGRAM_KEY,
            "DEEPGRAM_BASE_URL": f"http://127.0.0.1:{fake_port}",
        }
        s3_env = {
            "CACHE_BACKEND": "s3",
            "CACHE_S3_BUCKET": "bench-fleet",
            "CACHE_S3_ENDPOINT": f"http://127.0.0.1:{moto_port}",
            "CACHE_S3_ACCESS_KEY": "bench",
            "CACHE_S3_SECRET_KEY": "bench-secret",
        }

        def host(name: str, **env: str) -> Gunicorn:
            data = scratch / name
            data.mkdir()
            server = Gunicorn("wsgi:app", {**common, **env, "DATA_DIR": str(data)}, ROOT, args.workers, args.threads)
            servers.append(server)
            return server

        # --- 1. 64 concurrent identical misses over three hosts ----------------------------------------
        fleet = [host(f"host-{n}", **s3_env) for n in range(HOSTS)]
        single_flight = [
            concurrent_misses(fleet, fake_port, f"Sixty-four callers ask at once, prompt {n}, run {scratch.name}")
            for n in range(args.prompts)
        ]

        # --- 2. hit throughput: S3 with the local copy ÷ the local directory only -------------------------
        local = host("local-directory")  # CACHE_BACKEND=file, on the same PostgreSQL
        texts = {
            "s3": "Welcome to Sayna, served by a fleet host.",
            "file": "Welcome to Sayna, served by one lone host.",
        }
        texts["file"] = texts["file"][: len(texts["s3"])]  # the same length: the same audio size
        targets = {"s3": (fleet[0].port, speak_body(texts["s3"])), "file": (local.port, speak_body(texts["file"]))}
        sizes = {}
        for name, (port, body) in targets.items():
            status, headers, audio = request(port, "POST", "/speak", body, HEADERS)
            assert status == 200 and headers["x-cache"] == "MISS", (status, headers)
            sizes[name] = len(audio)
        clients = args.workers * args.threads
        for port, body in targets.values():  # warm: every worker has connected and looked the entry up
            throughput(port, "/speak", body, HEADERS, 1.0, clients)
        rates: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, (port, body) in targets.items():
                rates[name].append(throughput(port, "/speak", body, HEADERS, args.seconds, clients))
        for port, body in targets.values():
            assert request(port, "POST", "/speak", body, HEADERS)[1]["x-cache"] == "HIT"
        medians = {name: statistics.median(values) for name, values in rates.items()}
        for server in servers:
            server.stop()
        servers.clear()

        # --- 3. the fleet lock's cost on a miss ------------------------------------------------------------
        p50 = miss_latencies(args.database, scratch, args.misses)
    finally:
        for server in servers:
            server.stop()
        for helper in helpers:
            helper.terminate()
            helper.wait(10)

    calls = [c for c, _ in single_flight]
    print(
        f"bench/fleet.py: {HOSTS} hosts x {args.workers} workers x {args.threads} threads, one PostgreSQL, one bucket"
    )
    print(
        f"1. {CONCURRENT_MISSES} concurrent identical misses over {HOSTS} hosts: provider calls per prompt {calls}, "
        f"distinct answers {[d for _, d in single_flight]}  (goal: 1 call each) {'OK' if set(calls) == {1} else 'MISSED'}"
    )
    ratio = medians["s3"] / medians["file"]
    print(
        f"2. hit throughput, S3 + local copy {medians['s3']:.0f}/s ÷ local directory {medians['file']:.0f}/s = "
        f"{ratio:.2f}  (goal >= 0.9) {'OK' if ratio >= 0.9 else 'MISSED'}  [{sizes['s3']} B audio; "
        f"rounds s3 {[round(r) for r in rates['s3']]}, file {[round(r) for r in rates['file']]}]"
    )
    overhead = p50["advisory"] - p50["none"]
    print(
        f"3. miss p50: advisory lock {p50['advisory']:.2f} ms, flock {p50['flock']:.2f} ms, no lock {p50['none']:.2f} ms;"
        f" the fleet lock adds {overhead:.2f} ms  (goal <= 2 ms) {'OK' if overhead <= 2 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
