"""The server as operators start it: gunicorn with gunicorn.conf.py and wsgi.py."""

import json
import socket
import subprocess
import sys

import pytest
import requests

from tests.serving import GUNICORN, ROOT, gunicorn, gunicorn_env

SERVE = [sys.executable, "-m", "app.serve"]  # what `tox -e serve` runs: checks the settings, then gunicorn
BAD_SETTINGS = [
    ({"AUTH_REQUIRED": "true"}, "AUTH_REQUIRED"),
    ({"PORT": "eighty"}, "PORT"),
    ({"AUTH_API_SECRETS_JSON": "[{]"}, "AUTH_API_SECRETS_JSON"),
    ({"SIP_OUTBOUND_ADDRESS": "sip.example.com"}, "SIP_ROOM_PREFIX"),
    ({"TTS_REQUEST_TIMEOUT_SECONDS": "90", "GUNICORN_TIMEOUT": "60"}, "TTS_REQUEST_TIMEOUT_SECONDS"),
    ({"WEB_CONCURRENCY": "abc"}, "WEB_CONCURRENCY"),
    ({"GUNICORN_THREADS": "0"}, "GUNICORN_THREADS"),
    ({"GUNICORN_TIMEOUT": "soon"}, "GUNICORN_TIMEOUT"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ({"METRICS_ENABLED": "perhaps"}, "METRICS_ENABLED"),
    ({"DATA_DIR": "/proc/nope"}, "DATA_DIR"),
    ({"CACHE_PATH": "/proc/nope/cache"}, "CACHE_PATH"),
    ({"DATABASE_URL": "postgresql://postgres:pg-password-9@127.0.0.1:1/sayna"}, "DATABASE_URL"),
    ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
    ({"TTS_DEFAULT_PROVIDER": "acme"}, "TTS_DEFAULT_PROVIDER"),
    ({"TTS_DEFAULT_PROVIDER": "deepgram", "DEEPGRAM_API_KEY": ""}, "TTS_DEFAULT_PROVIDER"),
    ({"LOCAL_TTS_VOICE": "elvish"}, "LOCAL_TTS_VOICE"),
]


@pytest.mark.parametrize(("env", "variable"), BAD_SETTINGS)
def test_invalid_configuration_stops_start_up_with_one_line(tmp_path, env, variable):
    result = subprocess.run(
        SERVE, cwd=ROOT, env=gunicorn_env(tmp_path, **env), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Invalid configuration:") and variable in lines[0]
    assert "pg-password-9" not in lines[0]


@pytest.mark.parametrize(("env", "variable"), [BAD_SETTINGS[5], BAD_SETTINGS[10], BAD_SETTINGS[14]])
def test_the_cli_refuses_a_bad_setting_with_the_same_one_line(tmp_path, env, variable):
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "cache", "stats"]
    result = subprocess.run(
        command, cwd=ROOT, env=gunicorn_env(tmp_path, **env), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Invalid configuration:") and variable in lines[0], result.stderr


def test_plain_gunicorn_refuses_a_setting_found_bad_while_building_the_app_in_one_line(tmp_path):
    result = subprocess.run(
        GUNICORN, env=gunicorn_env(tmp_path, LOCAL_TTS_VOICE="elvish"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Invalid configuration: LOCAL_TTS_VOICE 'elvish' is not an espeak-ng voice (any id of GET /voices' local "
        "list, or a language tag such as en-us)"
    ]


def test_an_unreadable_signing_key_stops_start_up_with_one_line(tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("not a PEM key")
    env = {"AUTH_REQUIRED": "true", "AUTH_SERVICE_URL": "http://127.0.0.1:9/auth", "AUTH_SIGNING_KEY_PATH": str(key)}
    result = subprocess.run(GUNICORN, env=gunicorn_env(tmp_path, **env), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    # the key is loaded when the app is built, in gunicorn's master: its start-up lines come first
    assert (
        result.stderr.strip().splitlines()[-1]
        == "Invalid configuration: AUTH_SIGNING_KEY_PATH is not a readable unencrypted PEM private key (ValueError)"
    )


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
