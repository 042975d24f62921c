"""The server as operators start it: gunicorn with gunicorn.conf.py and wsgi.py."""
import json
import socket
import subprocess

import pytest
import requests

from tests.serving import GUNICORN, gunicorn, gunicorn_env


@pytest.mark.parametrize(("env", "variable"), [
    ({"AUTH_REQUIRED": "true"}, "AUTH_REQUIRED"),
    ({"PORT": "eighty"}, "PORT"),
    ({"AUTH_API_SECRETS_JSON": "[{]"}, "AUTH_API_SECRETS_JSON"),
    ({"SIP_OUTBOUND_ADDRESS": "sip.example.com"}, "SIP_ROOM_PREFIX"),
    ({"TTS_REQUEST_TIMEOUT_SECONDS": "90", "GUNICORN_TIMEOUT": "60"}, "TTS_REQUEST_TIMEOUT_SECONDS"),
])
def test_invalid_configuration_stops_start_up_with_one_line(tmp_path, env, variable):
    result = subprocess.run(GUNICORN, env=gunicorn_env(tmp_path, **env), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Invalid configuration:") and variable in lines[0]


def test_gunicorn_serves_health_and_docs_on_the_embedded_defaults(tmp_path, database_url):
    with gunicorn(tmp_path, DATABASE_URL=database_url) as served:
        base = served.url
        response = requests.get(base + "/", timeout=5)
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        assert response.headers["Content-Type"] == "application/json"
        assert requests.get(base + "/ready", timeout=5).json()["status"] == "ok"
        docs = requests.get(base + "/docs", timeout=5)
        assert docs.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in docs.text
        assert requests.get(base + "/docs/assets/swagger-ui-bundle.js", timeout=5).status_code == 200


def test_gunicorn_logs_its_own_lines_as_json_without_secrets(tmp_path, database_url):
    """gunicorn itself logs a malformed request with its header; the secret in it must not reach the log."""
    secret = "configured-api-secret-7f3a"
    with gunicorn(tmp_path, DATABASE_URL=database_url, AUTH_REQUIRED="true", AUTH_API_SECRET=secret) as served:
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as connection:
            connection.sendall(f"GET / HTTP/1.1\r\nHost: x\r\nX-Bad {secret}\r\n\r\n".encode())
            assert connection.recv(100).startswith(b"HTTP/1.1 400")
    lines = served.log_text().splitlines()
    assert secret not in "\n".join(lines)
    records = [json.loads(line) for line in lines]  # every line, gunicorn's included, is JSON
    invalid = [r for r in records if r["name"] == "gunicorn.error" and "Invalid request" in r["message"]]
    assert invalid and "***" in invalid[0]["message"]
