"""Section 2 of bench/speak.py alone, for working on the miss overhead: p50 of POST /speak cache misses (the
SDKs' nested JSON, binary answer, so streamed) against the fake Deepgram's own p50 and a plain Flask relay,
with the same gunicorn settings and the same helpers as bench/speak.py.

Run by hand:  /work/main/.tox/py311/bin/python bench/speak_misses.py [--misses 100] [--no-cache]
  --profile PATH: one worker, and py-spy records it (raw format) while the misses run (no direct/relay
  figures then: only our requests are sent).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import speak as bench  # bench/speak.py, beside this file

PY_SPY = str(Path(bench.PYTHON).with_name("py-spy"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--misses", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--no-cache", action="store_true", help="CACHE_ENABLED=false: what the cache costs")
    parser.add_argument("--profile", help="record the one worker with py-spy into this file")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-misses-"))
    latency = args.latency_ms / 1000
    fake = subprocess.Popen(
        [bench.PYTHON, "-c", bench.FAKE_SCRIPT.format(root=str(bench.ROOT), key=bench.DEEPGRAM_KEY, latency=latency)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    fake_port = int(fake.stdout.readline())
    env = {
        "DATA_DIR": str(scratch),
        "LOG_LEVEL": "WARNING",
        "DEEPGRAM_API_KEY": bench.DEEPGRAM_KEY,
        "DEEPGRAM_BASE_URL": f"http://127.0.0.1:{fake_port}",
        "PYTHONPATH": str(bench.ROOT),
        **({"CACHE_ENABLED": "false"} if args.no_cache else {}),
    }
    (scratch / "bench_app.py").write_text(bench.BENCH_APP)
    (scratch / "proxy_app.py").write_text(bench.PROXY_APP)
    workers = 1 if args.profile else args.workers
    servers = [bench.Gunicorn("bench_app:app", env, scratch, workers, args.threads)]
    servers.append(bench.Gunicorn("proxy_app:app", env, scratch, workers, args.threads))
    ours, proxy = servers
    headers = {"Content-Type": "application/json", "Accept": "*/*"}
    dg_headers = {"Authorization": f"Token {bench.DEEPGRAM_KEY}", "Content-Type": "application/json"}
    query = bench.STREAMED_QUERY
    spy = None
    try:
        connection = http.client.HTTPConnection("127.0.0.1", ours.port, timeout=30)
        direct = http.client.HTTPConnection("127.0.0.1", fake_port, timeout=30)
        proxied = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
        times: dict[str, list[float]] = {"ours": [], "direct": [], "relay": []}
        for index in range(args.misses + 10):
            if args.profile and index == 10:
                pid = bench.worker_pids(ours)[0]
                record = [PY_SPY, "record", "-p", str(pid), "-r", "500", "-f", "raw", "--threads", "-o", args.profile]
                spy = subprocess.Popen(record, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1)  # py-spy attaches
            text = f"Prompt number {index} for the miss benchmark, run {scratch.name}"
            body = json.dumps({"text": text, "tts_config": {"provider": "deepgram", "model": ""}}).encode()
            plain = json.dumps({"text": text}).encode()
            calls = [("ours", ours.port, "/speak", body, headers, connection)]
            if not args.profile:
                calls += [("direct", fake_port, query, plain, dg_headers, direct)]
                calls += [("relay", proxy.port, "/speak", plain, headers, proxied)]
            for name, port, path, payload, sent, conn in calls:
                started = time.perf_counter()
                status, answer_headers, _ = bench.request(port, "POST", path, payload, sent, conn)
                elapsed = time.perf_counter() - started
                assert status == 200, (name, status)
                assert name != "ours" or answer_headers["x-cache"] == "MISS", answer_headers
                if index >= 10:  # the first ones warm pools and imports
                    times[name].append(elapsed * 1000)
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        for server in servers:
            server.stop()
        os.killpg(fake.pid, signal.SIGTERM)
        fake.wait(10)
    p50 = {name: statistics.median(values) for name, values in times.items() if values}
    if args.profile:
        print(f"ours p50 {p50['ours']:.1f} ms (one worker, under py-spy); profile in {args.profile}")
        return
    print(
        f"{args.misses} misses, {workers} workers x {args.threads} threads{', cache off' if args.no_cache else ''}: "
        f"ours p50 {p50['ours']:.1f} ms, provider {p50['direct']:.1f} ms, plain relay {p50['relay']:.1f} ms; "
        f"overhead ours {p50['ours'] - p50['direct']:.1f} ms, relay {p50['relay'] - p50['direct']:.1f} ms, "
        f"ours over the relay {p50['ours'] - p50['relay']:.1f} ms"
    )


if __name__ == "__main__":
    main()
