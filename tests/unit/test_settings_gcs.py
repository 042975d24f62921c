"""RECORDING_BACKEND=gcs: the bucket and exactly one service-account key, checked at start-up with one
line naming the variable, as upstream reads them (RECORDING_GCS_*)."""

import json

import pytest

from app.settings import Settings, SettingsError
from tests.fakes.gcs import gcs_server  # noqa: F401 - fixture


@pytest.fixture
def key_json(gcs_server):  # noqa: F811
    return gcs_server.service_account_json()


def test_an_inline_key_selects_gcs(key_json):
    recording = Settings.from_env(
        {"RECORDING_GCS_BUCKET": "calls", "RECORDING_GCS_CREDENTIALS_JSON": key_json, "RECORDING_PREFIX": "/rooms/"}
    ).recording
    assert (recording.backend, recording.gcs_bucket, recording.prefix) == ("gcs", "calls", "rooms")
    assert recording.gcs_credentials_json == key_json and recording.gcs_endpoint is None
    assert "PRIVATE KEY" not in repr(recording)


@pytest.mark.parametrize("name", ["gcs", "gcp", "google", "GCS"])
def test_a_key_file_is_read_at_start_up(tmp_path, key_json, name):
    path = tmp_path / "key.json"
    path.write_text(key_json)
    recording = Settings.from_env(
        {"RECORDING_BACKEND": name, "RECORDING_GCS_BUCKET": "calls", "RECORDING_GCS_CREDENTIALS_PATH": str(path)}
    ).recording
    assert recording.backend == "gcs" and recording.gcs_credentials_json == key_json


def test_an_emulator_endpoint_is_used_anonymously(key_json):
    env = {
        "RECORDING_GCS_BUCKET": "calls",
        "RECORDING_GCS_CREDENTIALS_JSON": key_json,
        "STORAGE_EMULATOR_HOST": "http://127.0.0.1:4443/",
    }
    recording = Settings.from_env(env).recording
    assert (recording.gcs_endpoint, recording.gcs_anonymous) == ("http://127.0.0.1:4443", True)
    bare = Settings.from_env({**env, "STORAGE_EMULATOR_HOST": "localhost:4443"}).recording
    assert (bare.gcs_endpoint, bare.gcs_anonymous) == ("http://localhost:4443", True)
    ours = Settings.from_env({**env, "RECORDING_GCS_ENDPOINT": "http://gcs.internal"}).recording
    assert (ours.gcs_endpoint, ours.gcs_anonymous) == ("http://gcs.internal", False)


def test_upstreams_gcs_base_url_inside_the_key_is_the_endpoint(key_json):
    key = {**json.loads(key_json), "gcs_base_url": "http://fake-gcs:4443"}
    recording = Settings.from_env(
        {"RECORDING_GCS_BUCKET": "calls", "RECORDING_GCS_CREDENTIALS_JSON": json.dumps(key)}
    ).recording
    assert (recording.gcs_endpoint, recording.gcs_anonymous) == ("http://fake-gcs:4443", False)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"RECORDING_BACKEND": "gcs", "RECORDING_GCS_CREDENTIALS_JSON": "KEY"}, "RECORDING_GCS_BUCKET"),
        ({"RECORDING_BACKEND": "gcs", "RECORDING_GCS_BUCKET": "b"}, "RECORDING_GCS_CREDENTIALS_JSON"),
        (
            {
                "RECORDING_GCS_BUCKET": "b",
                "RECORDING_GCS_CREDENTIALS_JSON": "KEY",
                "RECORDING_GCS_CREDENTIALS_PATH": "/k.json",
            },
            "Set only one of RECORDING_GCS_CREDENTIALS_PATH",
        ),
        (
            {"RECORDING_GCS_BUCKET": "b", "RECORDING_GCS_CREDENTIALS_PATH": "/no/such/key.json"},
            "RECORDING_GCS_CREDENTIALS_PATH cannot be read",
        ),
        (
            {"RECORDING_GCS_BUCKET": "b", "RECORDING_GCS_CREDENTIALS_JSON": "{not json"},
            "RECORDING_GCS_CREDENTIALS_JSON is not valid JSON",
        ),
        (
            {"RECORDING_GCS_BUCKET": "b", "RECORDING_GCS_CREDENTIALS_JSON": '{"type": "authorized_user"}'},
            "RECORDING_GCS_CREDENTIALS_JSON must be a service-account key",
        ),
        ({"RECORDING_GCS_BUCKET": "b", "RECORDING_GCS_CREDENTIALS_JSON": "NO_EMAIL"}, "'client_email'"),
        ({"RECORDING_GCS_BUCKET": "b", "RECORDING_GCS_CREDENTIALS_JSON": "BAD_KEY"}, "private_key is not a readable"),
        ({"RECORDING_GCS_BUCKET": "b", "RECORDING_S3_BUCKET": "b"}, "RECORDING_BACKEND must be 's3' or 'gcs'"),
    ],
)
def test_an_invalid_gcs_configuration_names_the_variable(key_json, env, named):
    key = json.loads(key_json)
    replacements = {
        "KEY": key_json,
        "NO_EMAIL": json.dumps({**key, "client_email": ""}),
        "BAD_KEY": json.dumps({**key, "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}),
    }
    env = {name: replacements.get(value, value) for name, value in env.items()}
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    assert named in message and "\n" not in message
    assert "AAAA" not in message and "BEGIN" not in message  # never the key itself
