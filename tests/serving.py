"""The server as operators run it: gunicorn with gunicorn.conf.py and wsgi.py, in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.cache_backend import cache_env

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = [
    sys.executable,
    "-m",
    "gunicorn",
    "--chdir",
    str(ROOT),
    "--config",
    str(ROOT / "gunicorn.conf.py"),
    "wsgi:app",
]


def gunicorn_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AUTH_", "SIP_", "RECORDING_", "LIVEKIT_", "CACHE_BACKEND", "CACHE_S3_"))
    }
    env.update({"DATA_DIR": str(tmp_path / "data"), "WEB_CONCURRENCY": "2", "HOST": "127.0.0.1"})
    if os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    env.update(cache_env(tmp_path))
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    url: str
    port: int
    log: Path  # gunicorn's stderr: its own lines and the app's

    def log_text(self) -> str:
        return self.log.read_text()


@contextmanager
def gunicorn(tmp_path: Path, **env: str) -> Iterator[Served]:
    """gunicorn on a free port, answering `GET /`; stopped (and its log complete) on exit."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as stderr:
        server = subprocess.Popen(
            GUNICORN, env=gunicorn_env(tmp_path, PORT=str(port), **env), stdout=subprocess.DEVNULL, stderr=stderr
        )
    served = Served(f"http://127.0.0.1:{port}", port, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(served.url + "/", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # a worker still booting on a busy machine
                assert server.poll() is None, served.log_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        yield served
    finally:
        server.terminate()
        server.wait(timeout=30)
