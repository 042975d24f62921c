"""The server as operators start it: gunicorn with gunicorn.conf.py and wsgi.py."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), "--config", str(ROOT / "gunicorn.conf.py"),
            "wsgi:app"]


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "SIP_", "RECORDING_", "LIVEKIT_"))}
    env.update({"DATA_DIR": str(tmp_path / "data"), "WEB_CONCURRENCY": "2", "HOST": "127.0.0.1"})
    if os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(("env", "variable"), [
    ({"AUTH_REQUIRED": "true"}, "AUTH_REQUIRED"),
    ({"PORT": "eighty"}, "PORT"),
    ({"AUTH_API_SECRETS_JSON": "[{]"}, "AUTH_API_SECRETS_JSON"),
    ({"SIP_OUTBOUND_ADDRESS": "sip.example.com"}, "SIP_ROOM_PREFIX"),
    ({"TTS_REQUEST_TIMEOUT_SECONDS": "90", "GUNICORN_TIMEOUT": "60"}, "TTS_REQUEST_TIMEOUT_SECONDS"),
])
def test_invalid_configuration_stops_start_up_with_one_line(tmp_path, env, variable):
    result = subprocess.run(GUNICORN, env=_env(tmp_path, **env), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Invalid configuration:") and variable in lines[0]


def test_gunicorn_serves_health_and_docs_on_the_embedded_defaults(tmp_path, database_url):
    port = _free_port()
    server = subprocess.Popen(GUNICORN, env=_env(tmp_path, PORT=str(port), DATABASE_URL=database_url),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(base + "/", timeout=1)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        assert response.headers["Content-Type"] == "application/json"
        assert requests.get(base + "/ready", timeout=5).json()["status"] == "ok"
        docs = requests.get(base + "/docs", timeout=5)
        assert docs.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in docs.text
        assert requests.get(base + "/docs/assets/swagger-ui-bundle.js", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
