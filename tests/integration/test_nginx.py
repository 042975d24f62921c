"""deploy/nginx.conf, the production layout: the real nginx from Debian's packages in front of gunicorn.

The shipped file is used as it is, but for its `listen` port and upstream address (free ports here), inside
a minimal main configuration that keeps nginx's pid, logs and buffers in the test's directory."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.required import missing
from tests.serving import ROOT, Served, free_port, gunicorn

SLOW_CLIENTS = 64


def _nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found:
        return found
    missing("nginx is not installed (.ci/system-packages installs Debian's nginx)")


def _site(upstream_port: int, listen_port: int, cache_path: Path) -> str:
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site, upstreams = re.subn(r"server 127\.0\.0\.1:3001;", f"server 127.0.0.1:{upstream_port};", site)
    site, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen_port};", site)
    site, aliases = re.subn(r"alias /srv/sayna/data/cache/;", f"alias {cache_path}/;", site)
    assert (upstreams, listens, aliases) == (1, 1, 1), (
        "deploy/nginx.conf: one upstream, listen and cache alias expected"
    )
    return site


def _main_conf(directory: Path, site: Path) -> str:
    user = "user root;" if os.geteuid() == 0 else ""  # workers must reach the test's own directory
    return f"""{user}
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {site};
}}
"""


@contextmanager
def _proxied(tmp_path: Path, database_url: str, **env: str) -> Iterator[tuple[str, Served]]:
    """(nginx URL, gunicorn served) with gunicorn's default 2 workers x 4 threads."""
    binary = _nginx_binary()
    with gunicorn(
        tmp_path, DATABASE_URL=database_url, WEB_CONCURRENCY="2", GUNICORN_THREADS="4", TRUSTED_PROXIES="1", **env
    ) as served:
        directory = tmp_path / "nginx"
        directory.mkdir()
        port = free_port()
        site = directory / "sayna.conf"
        site.write_text(_site(served.port, port, tmp_path / "data" / "cache"))
        main = directory / "nginx.conf"
        main.write_text(_main_conf(directory, site))
        checked = subprocess.run([binary, "-t", "-c", str(main)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        nginx = subprocess.Popen([binary, "-c", str(main)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert nginx.poll() is None, nginx.stderr.read().decode()
                    assert time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.05)
            yield url, served
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
            nginx.stderr.close()


@pytest.fixture
def proxied(tmp_path, database_url):
    with _proxied(tmp_path, database_url) as running:
        yield running


class SlowClients:
    """Connections that send their request a byte at a time and never finish it."""

    def __init__(self, port: int, count: int):
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        for sock in self.sockets:
            sock.sendall(
                b"POST /speak HTTP/1.1\r\nHost: sayna\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n{"
            )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(0.5):
            for sock in self.sockets:
                try:
                    sock.sendall(b" ")
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.sockets:
            sock.close()


def test_slow_clients_never_reach_gunicorn_and_health_still_answers(proxied):
    url, _ = proxied
    port = int(url.rsplit(":", 1)[1])
    slow = SlowClients(port, SLOW_CLIENTS)
    try:
        for _ in range(3):
            response = requests.get(url + "/", timeout=1)  # fails the test after 1 s
            assert response.status_code == 200 and response.json() == {"status": "ok"}
    finally:
        slow.close()


def test_the_request_id_is_passed_through_and_nginx_makes_one_otherwise(proxied):
    url, _ = proxied
    assert requests.get(url + "/", headers={"X-Request-ID": "abc-123"}, timeout=5).headers["X-Request-ID"] == "abc-123"
    assert re.fullmatch(r"[0-9a-f]{32}", requests.get(url + "/", timeout=5).headers["X-Request-ID"])


def test_a_body_over_the_limit_is_refused_by_nginx_as_json(proxied):
    url, _ = proxied
    response = requests.post(
        url + "/speak", data=b"x" * (2 << 20), headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["code"] == "payload_too_large"


def test_the_app_sees_the_clients_address_not_nginxs(proxied):
    url, served = proxied
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), source_address=("127.0.0.2", 0)) as sock:
        sock.sendall(
            b"GET /ready HTTP/1.1\r\nHost: sayna\r\nX-Request-ID: from-127-0-0-2\r\n"
            b"X-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
    deadline = time.monotonic() + 5
    while "from-127-0-0-2" not in served.log_text():  # the access line is written after the answer
        assert time.monotonic() < deadline
        time.sleep(0.05)
    line = next(line for line in served.log_text().splitlines() if "from-127-0-0-2" in line)
    assert '"remote_addr": "127.0.0.2"' in line  # neither nginx's 127.0.0.1 nor the forged header


def test_with_x_accel_redirect_nginx_sends_the_cached_file_itself(tmp_path, database_url):
    with _proxied(tmp_path, database_url, CACHE_X_ACCEL_LOCATION="/_sayna_cache/") as (url, served):
        prompt = url + "/speak?text=Sent%20by%20nginx"
        miss = requests.get(prompt, timeout=30)
        assert miss.status_code == 200 and miss.headers["x-cache"] == "MISS"
        deadline = time.monotonic() + 10
        while (hit := requests.get(prompt, timeout=10)).headers.get("Last-Modified") is None:  # stored after the miss
            assert time.monotonic() < deadline
        direct = requests.get(served.url + "/speak?text=Sent%20by%20nginx", timeout=10)
        assert direct.headers["X-Accel-Redirect"].startswith("/_sayna_cache/") and direct.content == b""
        assert hit.status_code == 200 and hit.content == miss.content  # the bytes came from nginx, not the app
        assert hit.headers["Content-Type"] == "audio/wav" and hit.headers["Content-Length"] == str(len(miss.content))
        assert hit.headers["ETag"] == miss.headers["ETag"]
        assert {name: value for name, value in hit.raw.headers.items() if name.startswith("x-")} == {
            "x-audio-format": "wav",
            "x-sample-rate": "24000",
            "x-voice-id": "en-us",
            "x-provider": "local",
            "x-cache": "HIT",
        }
        assert "X-Accel-Redirect" not in hit.headers
        part = requests.get(prompt, headers={"Range": "bytes=10-19"}, timeout=10)
        assert part.status_code == 206 and part.content == miss.content[10:20]
        assert requests.get(prompt, headers={"If-None-Match": hit.headers["ETag"]}, timeout=10).status_code == 304
        posted = requests.post(
            url + "/speak", json={"text": "Sent by nginx"}, headers={"Accept": "audio/wav"}, timeout=10
        )
        assert posted.status_code == 200 and posted.content == miss.content and posted.headers["x-cache"] == "HIT"
        assert (
            requests.get(url + "/_sayna_cache/" + direct.headers["X-Accel-Redirect"][14:], timeout=10).status_code
            == 404
        )
