"""Where a cache hit's time goes: py-spy samples every gunicorn worker (threads holding the GIL only) while
`wrk` asks for one cached prompt; prints the top functions by own and by inclusive samples.

Run by hand (not in CI), with py-spy from PyPI (`pip install py-spy`) and Debian's wrk:
    python bench/profile_hit.py [--root .] [--form get|post]   (--root: a checkout to profile, e.g. main's)
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROMPT = "/speak?text=Welcome%20to%20Sayna"
SDK_BODY = {
    "text": "Welcome to Sayna",
    "tts_config": {"provider": "local", "model": "", "audio_format": "wav", "sample_rate": 24000, "auth": None},
}
KEEP = ("app/", "werkzeug", "flask", "prometheus", "sqlalchemy", "gunicorn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--form", choices=("get", "post"), default="get")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    scratch = Path(tempfile.mkdtemp(prefix="profile-hit-"))
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(scratch),
        "LOG_LEVEL": "WARNING",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    config = str(Path(args.root) / "gunicorn.conf.py")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--chdir", args.root, "--config", config, "wsgi:app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/").read()
                break
            except OSError:
                time.sleep(0.1)
        load = ["wrk", "-t2", "-c8"]
        if args.form == "post":
            script = scratch / "post.lua"
            script.write_text(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.headers["Accept"] = "*/*"\nwrk.body = {json.dumps(json.dumps(SDK_BODY))}\n'
            )
            load += ["-s", str(script)]
        target = url + ("/speak" if args.form == "post" else PROMPT)
        subprocess.run([*load, "-d3s", target], capture_output=True, check=True)  # warm: every worker hits
        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        loading = subprocess.Popen([*load, f"-d{args.seconds + 4}s", target], stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        outputs = [scratch / f"{pid}.txt" for pid in workers]
        spies = [
            subprocess.Popen(
                [py_spy, "record", "--pid", pid, "--duration", str(args.seconds), "--rate", "200", "--gil"]
                + ["--format", "raw", "--output", str(output)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid, output in zip(workers, outputs, strict=True)
        ]
        for spy in spies:
            spy.wait()
        rate = loading.communicate()[0].split("Requests/sec:")[1].split()[0]
        report(outputs, f"{args.form} hit, {rate} req/s under profiling")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
        shutil.rmtree(scratch, ignore_errors=True)


def report(outputs: list[Path], title: str) -> None:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for output in outputs:
        for line in output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = [frame.rsplit(":", 1)[0] + ")" if frame.endswith(")") else frame for frame in stack.split(";")]
            if not any("wsgi_app" in frame or "handle_request" in frame for frame in frames):
                continue  # request threads only
            samples = int(count)
            total += samples
            own[frames[-1]] += samples
            for frame in set(frames):
                inclusive[frame] += samples
    print(f"{title}; {total} samples in request handling")
    print("top own:")
    for frame, samples in own.most_common(12):
        print(f"  {100 * samples / total:5.1f}%  {frame}")
    print("top inclusive:")
    kept = [(frame, samples) for frame, samples in inclusive.most_common(400) if any(k in frame for k in KEEP)]
    for frame, samples in kept[:20]:
        print(f"  {100 * samples / total:5.1f}%  {frame}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    main()
