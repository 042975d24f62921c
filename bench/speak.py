"""POST /speak: the synthesis cache's cost, measured side by side in one run under gunicorn.

What it compares (gunicorn with the project's gunicorn.conf.py, the same worker and thread counts for
every server; the fake Deepgram runs in its own process with a fixed latency):
  1. cache-hit throughput of POST /speak ÷ throughput of a bare Flask view returning the same bytes
     (goal >= 0.8). The bare view is added to our app, in the same server, so both pay the same request
     middleware (request id, auth, logging): the ratio is what the cache path (validation, negotiation,
     lookup) costs on a hit. For information, also against a plain Flask app in its own server;
  2. p50 latency of cache misses minus the fake provider's own p50, measured directly with the same
     requests (goal <= 2 ms): what we add on the way to the provider and back (storing included); for
     information, the same for a plain Flask app relaying the requests with `requests` (the floor of any
     Python relay under these gunicorn settings);
  3. provider calls made by 64 concurrent identical misses spread over the workers (goal exactly 1);
  4. hits at file speed, measured with `wrk` (Debian package wrk): cache-hit throughput of GET /speak?text=…
     and of the SDKs' POST /speak (a ~117 KB WAV) ÷ a plain Flask app (no middleware) in its own gunicorn
     returning the same bytes (goal >= 0.9); for information against nginx serving the same file, and our
     GET behind the shipped deploy/nginx.conf with CACHE_X_ACCEL_LOCATION ÷ that nginx;
  5. peak RSS growth of each worker while 16 clients fetch a 50 MB cached file (goal < 8 MB);
  6. time to the first audio byte of a binary miss ÷ the provider's own, with a fake Deepgram that answers
     after 150 ms and streams 3 s of audio over 1.5 s (goal <= 1.05), and how long after the leader three
     identical requests in the same worker get their first byte (goal <= 50 ms).
Throughput rounds alternate the servers and views; medians are compared.

Run by hand (not in CI):  /work/venv/bin/python bench/speak.py [--workers 2] [--threads 4] [--seconds 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEEPGRAM_KEY = "bench-deepgram-key"
FAKE_SCRIPT = """
import sys, json
sys.path.insert(0, {root!r})
from tests.fakes.deepgram import FakeDeepgram
from werkzeug.serving import make_server
fake = FakeDeepgram(api_key={key!r}, latency={latency!r})

def app(environ, start_response):
    if environ["PATH_INFO"] == "/_calls":  # for the bench: how many syntheses the fake made
        body = json.dumps(len(fake.speak_calls)).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    return fake.app(environ, start_response)

server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""
BENCH_APP = """
from flask import Response

from app import create_app
from app.services.tts import SpeechOrder

app = create_app()
_AUDIO = {}


def bare():
    if "audio" not in _AUDIO:  # the very bytes a hit serves, taken once from the cache
        _AUDIO["audio"] = app.extensions["services"].speech.speak(SpeechOrder(text="Welcome to Sayna")).audio
    return Response(_AUDIO["audio"].data, mimetype=_AUDIO["audio"].content_type)


app.add_url_rule("/bench/bare", "bench_bare", bare, methods=["POST"])
"""
BARE_APP = """
import os
from flask import Flask, Response

app = Flask(__name__)
BODY = open(os.environ["BENCH_AUDIO"], "rb").read()
CONTENT_TYPE = os.environ["BENCH_CONTENT_TYPE"]


@app.get("/")
def health():
    return {"status": "ok"}


@app.route("/speak", methods=["GET", "POST"])
def speak():
    return Response(BODY, mimetype=CONTENT_TYPE)
"""
PROXY_APP = """
import os

import requests
from flask import Flask, Response, request

app = Flask(__name__)
SESSION = requests.Session()
SESSION.trust_env = False
URL = os.environ["DEEPGRAM_BASE_URL"] + "/v1/speak?model=aura-2-thalia-en&encoding=linear16&container=none&sample_rate=24000"
HEADERS = {"Authorization": "Token " + os.environ["DEEPGRAM_API_KEY"]}


@app.get("/")
def health():
    return {"status": "ok"}


@app.post("/speak")
def speak():
    answer = SESSION.post(URL, json={"text": request.get_json()["text"]}, headers=HEADERS, timeout=30)
    return Response(answer.content, mimetype="audio/pcm")
"""
# The fake Deepgram of section 6: it answers after 150 ms and streams 3 s of 24 kHz PCM (100 characters at
# 30 ms each) in 100 ms parts over the next 1.35 s, as a real TTS API does.
PACED_FAKE_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from tests.fakes.deepgram import FakeDeepgram
from tests.fakes.pacing import Pacing
from werkzeug.serving import make_server
fake = FakeDeepgram(api_key={key!r}, latency=0.15)
fake.pacing = Pacing(first=4800, hold=False, chunk=4800, trickle_seconds=1.35 / 29)
server = make_server("127.0.0.1", 0, fake.app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""
STREAMED_QUERY = "/v1/speak?model=aura-2-thalia-en&encoding=linear16&container=none&sample_rate=24000"
HIT_TEXT = "Welcome to Sayna, please hold the line."
HIT_URL = "/speak?text=Welcome%20to%20Sayna%2C%20please%20hold%20the%20line.&sample_rate=22050"
HIT_POST = (
    '{"text": "Welcome to Sayna, please hold the line.", "tts_config": {"provider": "local", "model": "", '
    '"voice_id": null, "speaking_rate": 1.0, "audio_format": "wav", "sample_rate": 22050, "connection_timeout": null, '
    '"request_timeout": null, "pronunciations": [], "auth": null}}'
)
BIG_TEXT = "Fifty megabytes of audio"
BIG_BYTES = 50 << 20
# Puts a 50 MB WAV in the cache under the key GET /speak?text=<BIG_TEXT> resolves to (synthesizing 18 minutes
# of speech would take the bench longer than the measurement).
BIG_ENTRY = """
import struct
from app import create_app
from app.services.cache import EntryLabel
from app.services.tts import SpeechOrder
from app.services.tts.audio import Audio

services = create_app().extensions["services"]
prepared = services.speech.prepare(SpeechOrder(text={text!r}, audio_format="wav"))
pcm = bytes(range(256)) * ({size} // 256)
header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 24000, 48000, 2, 16)
wav = header + b"data" + struct.pack("<I", len(pcm)) + pcm
services.speech.cache.get_or_synthesize(
    prepared.cache_key, EntryLabel("local", "en-us", "espeak-ng"), lambda: Audio(wav, "wav", 24000, len(pcm) // 48)
)
services.close()
"""
NGINX_MAIN = """{user}
daemon off;
worker_processes {workers};
pid {directory}/nginx.pid;
error_log {directory}/error.log error;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    {body}
}}
"""
NGINX_FILE = """server {{
        listen 127.0.0.1:{port};
        location = /speak {{ default_type audio/wav; alias {file}; }}
    }}"""


def first_byte(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[float, float, int]:
    """(when the first body byte arrived, when the last did, how many bytes), perf_counter seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        assert response.status == 200, (response.status, response.read())
        received = len(response.read1(65536))
        first = time.perf_counter()
        while chunk := response.read1(65536):
            received += len(chunk)
        return first, time.perf_counter(), received
    finally:
        connection.close()


def follower_lags(port: int, body: bytes, headers: dict[str, str], followers: int) -> list[float]:
    """A leader and `followers` identical requests sent 50 ms after it (the provider has not answered yet):
    how long after the leader's (or their own request, if later) each follower got its first byte."""
    results: dict[int, tuple[float, float]] = {}
    leader_sent = threading.Event()

    def ask(slot: int) -> None:
        if slot:
            leader_sent.wait()
            time.sleep(0.05)
        else:
            threading.Timer(0.0, leader_sent.set).start()
        asked = time.perf_counter()
        results[slot] = (asked, first_byte(port, "/speak", body, headers)[0])

    callers = [threading.Thread(target=ask, args=(slot,)) for slot in range(followers + 1)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join()
    leader_first = results[0][1]
    return [first - max(leader_first, asked) for asked, first in (results[slot] for slot in range(1, followers + 1))]


def streaming_figures(scratch: Path, env: dict[str, str], threads: int, runs: int) -> dict[str, float]:
    """Section 6, against its own paced fake and a one-worker server (followers share the leader's process)."""
    fake = subprocess.Popen(
        [PYTHON, "-c", PACED_FAKE_SCRIPT.format(root=str(ROOT), key=DEEPGRAM_KEY)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    fake_port = int(fake.stdout.readline())
    ours = Gunicorn(
        "bench_app:app", {**env, "DEEPGRAM_BASE_URL": f"http://127.0.0.1:{fake_port}"}, scratch, 1, max(threads, 4)
    )
    headers = {"Content-Type": "application/json", "Accept": "audio/pcm"}
    direct_headers = {"Authorization": f"Token {DEEPGRAM_KEY}", "Content-Type": "application/json"}
    try:
        ours_ttfb, direct_ttfb, lags = [], [], []
        for index in range(runs + 2):
            text = f"Streamed prompt {index:03d}, {scratch.name}: a sentence long enough for three seconds."[:100]
            text = text.ljust(100, ".")
            body = json.dumps({"text": text, "tts_config": {"provider": "deepgram", "audio_format": "linear16"}})
            started = time.perf_counter()
            first, last, size = first_byte(ours.port, "/speak", body.encode(), headers)
            assert size == 144_000, size
            started_direct = time.perf_counter()
            first_direct, _, _ = first_byte(
                fake_port, STREAMED_QUERY, json.dumps({"text": text}).encode(), direct_headers
            )
            if index >= 2:  # the first ones warm pools and imports
                ours_ttfb.append(first - started)
                direct_ttfb.append(first_direct - started_direct)
        for index in range(runs):
            text = f"Followed prompt {index:03d}, {scratch.name}".ljust(100, ".")
            body = json.dumps({"text": text, "tts_config": {"provider": "deepgram", "audio_format": "linear16"}})
            lags += follower_lags(ours.port, body.encode(), headers, followers=3)
        return {
            "ours": statistics.median(ours_ttfb),
            "direct": statistics.median(direct_ttfb),
            "lag_max": max(lags),
            "lag_p50": statistics.median(lags),
        }
    finally:
        ours.stop()
        os.killpg(fake.pid, signal.SIGTERM)
        fake.wait(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, app: str, env: dict[str, str], pythonpath: Path, workers: int, threads: int):
        self.port = free_port()
        self.process = subprocess.Popen(
            [GUNICORN, "--config", str(ROOT / "gunicorn.conf.py"), "--pythonpath", str(pythonpath), app],
            env={
                **os.environ,
                **env,
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "WEB_CONCURRENCY": str(workers),
                "GUNICORN_THREADS": str(threads),
            },
            cwd=env["DATA_DIR"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if request(self.port, "GET", "/", None, {})[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{app} did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(10)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    connection: http.client.HTTPConnection | None = None,
):
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), data
    finally:
        if own:
            connection.close()


def _load_process(port, path, body, headers, seconds, threads, results):
    counts = []

    def run():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        done, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            status, _, _ = request(port, "POST", path, body, headers, connection)
            assert status == 200, status
            done += 1
        counts.append(done)
        connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(sum(counts))


def throughput(port: int, path: str, body: bytes, headers: dict[str, str], seconds: float, clients: int) -> float:
    """Requests per second from `clients` keep-alive connections spread over two client processes."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=_load_process, args=(port, path, body, headers, seconds, clients // 2, results))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    total = sum(results.get() for _ in processes)
    for process in processes:
        process.join()
    return total / seconds


def wrk(url: str, seconds: float, connections: int, post_body: str | None = None) -> float:
    """Requests per second `wrk` measured, with every answer a 2xx (or the bench stops)."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    script = None
    if post_body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Accept"] = "*/*"\nwrk.body = {json.dumps(post_body)}\n'
        )
        script.close()
        args += ["-s", script.name]
    try:
        output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    finally:
        if script is not None:
            os.unlink(script.name)
    assert "Non-2xx" not in output and "Socket errors" not in output, output
    return float(output.split("Requests/sec:")[1].split()[0])


class Nginx:
    def __init__(self, directory: Path, body: str, workers: int):
        directory.mkdir(parents=True, exist_ok=True)
        main = directory / "nginx.conf"
        user = "user root;" if os.geteuid() == 0 else ""  # workers must read the bench's own directory
        main.write_text(NGINX_MAIN.format(user=user, directory=directory, body=body, workers=workers))
        self.process = subprocess.Popen(
            [NGINX, "-c", str(main)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def worker_pids(server: Gunicorn) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in children.split()]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def peak_rss_growth(server: Gunicorn, path: str, clients: int) -> tuple[int, int]:
    """(largest RSS growth of one worker in KiB, bytes fetched) while `clients` fetch `path` at once."""
    pids = worker_pids(server)
    baseline = {pid: rss_kib(pid) for pid in pids}
    peaks = dict(baseline)
    done = threading.Event()

    def sample():
        while not done.is_set():
            for pid in pids:
                peaks[pid] = max(peaks[pid], rss_kib(pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    barrier, fetched = threading.Barrier(clients), []

    def fetch():
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        connection.connect()
        barrier.wait()
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200, response.status
        total = 0
        while chunk := response.read(1 << 16):
            total += len(chunk)
        fetched.append(total)
        connection.close()

    fetchers = [threading.Thread(target=fetch) for _ in range(clients)]
    for thread in fetchers:
        thread.start()
    for thread in fetchers:
        thread.join()
    done.set()
    sampler.join()
    return max(peaks[pid] - baseline[pid] for pid in pids), sum(fetched)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one throughput round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=50.0, help="the fake provider's fixed latency")
    parser.add_argument("--misses", type=int, default=60)
    parser.add_argument("--wrk-rounds", type=int, default=3)
    parser.add_argument("--streamed-runs", type=int, default=10)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-speak-"))
    fake = subprocess.Popen(
        [PYTHON, "-c", FAKE_SCRIPT.format(root=str(ROOT), key=DEEPGRAM_KEY, latency=args.latency_ms / 1000)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    fake_port = int(fake.stdout.readline())
    servers: list[Gunicorn] = []
    try:
        env = {
            "DATA_DIR": str(scratch),
            "LOG_LEVEL": "WARNING",
            "DEEPGRAM_API_KEY": DEEPGRAM_KEY,
            "DEEPGRAM_BASE_URL": f"http://127.0.0.1:{fake_port}",
        }
        (scratch / "bench_app.py").write_text(BENCH_APP)
        ours = Gunicorn("bench_app:app", env, scratch, args.workers, args.threads)
        servers.append(ours)

        # --- 1. cache-hit throughput against a bare view returning the same bytes --------------------
        hit_body = json.dumps(
            {
                "text": "Welcome to Sayna",
                "tts_config": {
                    "provider": "local",
                    "model": "",
                    "voice_id": None,
                    "speaking_rate": 1.0,
                    "audio_format": None,
                    "sample_rate": None,
                    "connection_timeout": None,
                    "request_timeout": None,
                    "pronunciations": [],
                    "auth": None,
                },
            }
        ).encode()
        headers = {"Content-Type": "application/json", "Accept": "*/*"}
        status, response_headers, audio = request(ours.port, "POST", "/speak", hit_body, headers)
        assert status == 200 and response_headers["x-cache"] == "MISS", (status, response_headers)
        (scratch / "audio.bin").write_bytes(audio)
        (scratch / "bare_app.py").write_text(BARE_APP)
        bare = Gunicorn(
            "bare_app:app",
            {**env, "BENCH_AUDIO": str(scratch / "audio.bin"), "BENCH_CONTENT_TYPE": response_headers["Content-Type"]},
            scratch,
            args.workers,
            args.threads,
        )
        servers.append(bare)
        clients = 2 * args.workers * args.threads // 2
        targets = {"speak": (ours.port, "/speak"), "bare": (ours.port, "/bench/bare"), "plain": (bare.port, "/speak")}
        for port, path in targets.values():  # warm: every worker has imported, connected and looked the entry up
            throughput(port, path, hit_body, headers, 1.0, clients)
        rates: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, (port, path) in targets.items():
                rates[name].append(throughput(port, path, hit_body, headers, args.seconds, clients))
        assert request(ours.port, "POST", "/speak", hit_body, headers)[1]["x-cache"] == "HIT"
        medians = {name: statistics.median(values) for name, values in rates.items()}
        ratio = medians["speak"] / medians["bare"]

        # --- 2. miss latency against the fake provider's own latency -----------------------------------
        connection = http.client.HTTPConnection("127.0.0.1", ours.port, timeout=30)
        direct = http.client.HTTPConnection("127.0.0.1", fake_port, timeout=30)
        query = "/v1/speak?model=aura-2-thalia-en&encoding=linear16&container=none&sample_rate=24000"
        dg_headers = {"Authorization": f"Token {DEEPGRAM_KEY}", "Content-Type": "application/json"}
        (scratch / "proxy_app.py").write_text(PROXY_APP)
        proxy = Gunicorn("proxy_app:app", env, scratch, args.workers, args.threads)
        servers.append(proxy)
        proxied = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
        ours_ms, direct_ms, proxy_ms = [], [], []
        for index in range(args.misses + 10):
            text = f"Prompt number {index} for the miss benchmark, run {scratch.name}"
            body = json.dumps({"text": text, "tts_config": {"provider": "deepgram", "model": ""}}).encode()
            started = time.perf_counter()
            status, response_headers, _ = request(ours.port, "POST", "/speak", body, headers, connection)
            elapsed = time.perf_counter() - started
            assert status == 200 and response_headers["x-cache"] == "MISS", (status, response_headers)
            started = time.perf_counter()
            status, _, _ = request(fake_port, "POST", query, json.dumps({"text": text}).encode(), dg_headers, direct)
            direct_elapsed = time.perf_counter() - started
            assert status == 200
            started = time.perf_counter()
            status, _, _ = request(proxy.port, "POST", "/speak", json.dumps({"text": text}).encode(), headers, proxied)
            proxy_elapsed = time.perf_counter() - started
            assert status == 200
            if index >= 10:  # the first ones warm pools and imports
                ours_ms.append(elapsed * 1000)
                direct_ms.append(direct_elapsed * 1000)
                proxy_ms.append(proxy_elapsed * 1000)
        miss_p50, direct_p50, proxy_p50 = (statistics.median(v) for v in (ours_ms, direct_ms, proxy_ms))

        # --- 3. single flight over the workers ----------------------------------------------------------
        calls_before = json.loads(request(fake_port, "GET", "/_calls", None, {})[2])
        body = json.dumps(
            {
                "text": f"Sixty-four callers at once, run {scratch.name}",
                "tts_config": {"provider": "deepgram", "model": ""},
            }
        ).encode()
        barrier = threading.Barrier(64)
        outcomes: list[tuple[int, str]] = []

        def caller():
            conn = http.client.HTTPConnection("127.0.0.1", ours.port, timeout=60)
            conn.connect()
            barrier.wait()
            status_, headers_, _ = request(ours.port, "POST", "/speak", body, headers, conn)
            outcomes.append((status_, headers_.get("x-cache", "")))
            conn.close()

        callers = [threading.Thread(target=caller) for _ in range(64)]
        for thread in callers:
            thread.start()
        for thread in callers:
            thread.join()
        provider_calls = json.loads(request(fake_port, "GET", "/_calls", None, {})[2]) - calls_before

        # --- 4. hits at file speed, with wrk ------------------------------------------------------------------
        status, response_headers, wav = request(ours.port, "GET", HIT_URL, None, {})
        assert status == 200, status
        deadline = time.time() + 10
        while "Last-Modified" not in request(ours.port, "GET", HIT_URL, None, {})[1]:  # stored: served from its file
            assert time.time() < deadline
        wav_file = scratch / "hit.wav"
        wav_file.write_bytes(wav)
        plain = Gunicorn(
            "bare_app:app",
            {**env, "BENCH_AUDIO": str(wav_file), "BENCH_CONTENT_TYPE": "audio/wav"},
            scratch,
            args.workers,
            args.threads,
        )
        servers.append(plain)
        file_port, accel_port = free_port(), free_port()
        nginx_file = Nginx(scratch / "nginx-file", NGINX_FILE.format(port=file_port, file=wav_file), args.workers)
        accelerated = Gunicorn(
            "bench_app:app",
            {**env, "CACHE_X_ACCEL_LOCATION": "/_sayna_cache/", "TRUSTED_PROXIES": "1"},
            scratch,
            args.workers,
            args.threads,
        )
        servers.append(accelerated)
        site = (ROOT / "deploy" / "nginx.conf").read_text()
        site = site.replace("server 127.0.0.1:3001;", f"server 127.0.0.1:{accelerated.port};")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{accel_port};")
        site = site.replace("alias /srv/sayna/data/cache/;", f"alias {scratch / 'cache'}/;")
        nginx_accel = Nginx(scratch / "nginx-accel", site, args.workers)
        nginxes = [nginx_file, nginx_accel]
        time.sleep(0.5)
        through_nginx = request(accel_port, "GET", HIT_URL, None, {})
        assert through_nginx[2] == wav, through_nginx[:2]  # through nginx, from the cache's file
        wrk_targets = {
            "get": (f"http://127.0.0.1:{ours.port}{HIT_URL}", None),
            "post": (f"http://127.0.0.1:{ours.port}/speak", HIT_POST),
            "plain": (f"http://127.0.0.1:{plain.port}/speak", None),
            "plain_post": (f"http://127.0.0.1:{plain.port}/speak", HIT_POST),
            "nginx": (f"http://127.0.0.1:{file_port}/speak", None),
            "accel": (f"http://127.0.0.1:{accel_port}{HIT_URL}", None),
        }
        wrk_clients = 2 * args.workers * args.threads
        for url, body in wrk_targets.values():
            wrk(url, 1, wrk_clients, body)
        wrk_rates: dict[str, list[float]] = {name: [] for name in wrk_targets}
        for _ in range(args.wrk_rounds):
            for name, (url, body) in wrk_targets.items():
                wrk_rates[name].append(wrk(url, args.seconds, wrk_clients, body))
        wrk_medians = {name: statistics.median(values) for name, values in wrk_rates.items()}

        # --- 5. memory while 16 clients fetch a 50 MB cached file -----------------------------------------------
        big = subprocess.run(
            [PYTHON, "-c", BIG_ENTRY.format(text=BIG_TEXT, size=BIG_BYTES)],
            cwd=scratch,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
        )
        assert big.returncode == 0, big.stderr
        big_path = "/speak?text=" + BIG_TEXT.replace(" ", "%20")
        peak_rss_growth(ours, big_path, 2)  # each worker verifies the entry once, from the index
        rss_growth, fetched = peak_rss_growth(ours, big_path, 16)

        # --- 6. time to first byte of a streamed miss, and its followers ---------------------------------------
        streamed = streaming_figures(scratch, env, args.threads, args.streamed_runs)
    finally:
        for nginx in locals().get("nginxes", []):
            nginx.stop()
        for server in servers:
            server.stop()
        os.killpg(fake.pid, signal.SIGTERM)
        fake.wait(10)
        shutil.rmtree(scratch, ignore_errors=True)

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    statuses = sorted({status for status, _ in outcomes})
    misses = sum(cache == "MISS" for _, cache in outcomes)
    print(
        f"bench/speak.py: gunicorn {args.workers} workers x {args.threads} threads (gunicorn.conf.py) for both "
        f"servers, {os.cpu_count()} CPUs, LOG_LEVEL=WARNING, fake Deepgram latency {args.latency_ms:g} ms"
    )
    print(
        f"1. cache-hit /speak {medians['speak']:.0f} req/s vs a bare view in the same app {medians['bare']:.0f} req/s "
        f"({len(audio)} B body, {clients} keep-alive clients, median of {args.rounds} x {args.seconds:g} s): "
        f"ratio {ratio:.2f} (goal >= 0.8) {verdict(ratio >= 0.8)}"
    )
    print(
        f"   for information, a plain Flask app (no middleware) serving the same bytes: {medians['plain']:.0f} req/s, "
        f"ratio {medians['speak'] / medians['plain']:.2f}"
    )
    print("   rounds: " + "; ".join(f"{name} {[round(r) for r in values]}" for name, values in rates.items()))
    print(
        f"2. miss p50 {miss_p50:.1f} ms vs the fake provider's own p50 {direct_p50:.1f} ms "
        f"({args.misses} misses): overhead {miss_p50 - direct_p50:.1f} ms (goal <= 2 ms) "
        f"{verdict(miss_p50 - direct_p50 <= 2)}"
    )
    print(
        f"   for information, a plain Flask app in the same gunicorn settings relaying the same requests with "
        f"requests: p50 {proxy_p50:.1f} ms, overhead {proxy_p50 - direct_p50:.1f} ms; ours over it "
        f"{miss_p50 - proxy_p50:.1f} ms"
    )
    print(
        f"3. 64 concurrent identical misses over {args.workers} workers: {provider_calls} provider call(s) "
        f"(goal exactly 1) {verdict(provider_calls == 1)}; statuses {statuses}, {misses} MISS, "
        f"{len(outcomes) - misses} HIT"
    )
    get_ratio, post_ratio = wrk_medians["get"] / wrk_medians["plain"], wrk_medians["post"] / wrk_medians["plain_post"]
    print(
        f"4. wrk, {wrk_clients} connections, {len(wav)} B WAV, median of {args.wrk_rounds} x {args.seconds:g} s: "
        f"cache-hit GET /speak {wrk_medians['get']:.0f} req/s vs a plain Flask app {wrk_medians['plain']:.0f} req/s: "
        f"ratio {get_ratio:.2f} (goal >= 0.9) {verdict(get_ratio >= 0.9)}"
    )
    print(
        f"   cache-hit POST /speak (SDK body) {wrk_medians['post']:.0f} req/s vs the plain app's POST "
        f"{wrk_medians['plain_post']:.0f} req/s: ratio {post_ratio:.2f} (goal >= 0.9) {verdict(post_ratio >= 0.9)}"
    )
    print(
        f"   nginx serving the same file: {wrk_medians['nginx']:.0f} req/s; GET /speak ÷ nginx "
        f"{wrk_medians['get'] / wrk_medians['nginx']:.2f}; behind deploy/nginx.conf with CACHE_X_ACCEL_LOCATION "
        f"{wrk_medians['accel']:.0f} req/s, ÷ nginx {wrk_medians['accel'] / wrk_medians['nginx']:.2f}"
    )
    print("   rounds: " + "; ".join(f"{name} {[round(r) for r in values]}" for name, values in wrk_rates.items()))
    print(
        f"5. 16 clients fetching a {BIG_BYTES >> 20} MB cached file ({fetched >> 20} MB sent): peak RSS growth of a "
        f"worker {rss_growth / 1024:.1f} MB (goal < 8 MB) {verdict(rss_growth < 8 * 1024)}"
    )
    ttfb_ratio = streamed["ours"] / streamed["direct"]
    print(
        f"6. first audio byte of a binary miss {streamed['ours'] * 1000:.0f} ms vs the provider's own "
        f"{streamed['direct'] * 1000:.0f} ms (3 s of audio streamed over 1.5 s, median of {args.streamed_runs}): "
        f"ratio {ttfb_ratio:.3f} (goal <= 1.05) {verdict(ttfb_ratio <= 1.05)}"
    )
    print(
        f"   3 identical requests in the leader's worker: first byte {streamed['lag_p50'] * 1000:.1f} ms (median), "
        f"{streamed['lag_max'] * 1000:.1f} ms (worst) after the leader's (goal <= 50 ms) "
        f"{verdict(streamed['lag_max'] <= 0.05)}"
    )


if __name__ == "__main__":
    main()
