import json

import pytest

from app.settings import Settings, SettingsError


def test_embedded_defaults_need_no_keys():
    settings = Settings.from_env({})
    assert settings.port == 3001 and settings.host == "0.0.0.0"
    assert settings.database_url == "sqlite:///data/sayna.db"
    assert settings.tts.default_provider == "local"
    assert settings.cache.ttl_seconds == 2_592_000
    assert settings.recording.backend == "file"
    assert not settings.auth.required and not settings.livekit.configured and not settings.sip.configured


def test_empty_variables_count_as_unset():
    settings = Settings.from_env({"PORT": "", "LIVEKIT_API_KEY": "  "})
    assert settings.port == 3001
    assert not settings.livekit.configured


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "abc"}, "PORT"),
        ({"PORT": "0"}, "PORT"),
        ({"AUTH_REQUIRED": "maybe"}, "AUTH_REQUIRED"),
        ({"AUTH_REQUIRED": "true"}, "AUTH_REQUIRED"),
        ({"AUTH_API_SECRETS_JSON": "not json"}, "AUTH_API_SECRETS_JSON"),
        ({"AUTH_API_SECRETS_JSON": '[{"id": "a"}]'}, "AUTH_API_SECRETS_JSON"),
        ({"AUTH_API_SECRETS_JSON": '[{"id": "a", "secret": "s1"}, {"id": "A", "secret": "s2"}]'}, "duplicate id"),
        ({"AUTH_API_SECRETS_JSON": '[{"id": "a", "secret": "s1"}, {"id": "b", "secret": "s1"}]'}, "duplicates"),
        ({"AUTH_API_SECRETS_JSON": '[{"id": " a", "secret": "s1"}]'}, "spaces"),
        ({"AUTH_API_SECRETS_JSON": '[{"id": "a", "secret": "  "}]'}, "cannot be empty"),
        ({"AUTH_SERVICE_URL": "http://auth"}, "AUTH_SIGNING_KEY_PATH"),
        ({"AUTH_SIGNING_KEY_PATH": "/no/such/key.pem"}, "AUTH_SERVICE_URL"),
        ({"AUTH_SERVICE_URL": "http://auth", "AUTH_SIGNING_KEY_PATH": "/no/such/key.pem"}, "AUTH_SIGNING_KEY_PATH"),
        ({"AUTH_TIMEOUT_SECONDS": "0"}, "AUTH_TIMEOUT_SECONDS"),
        ({"CACHE_TTL_SECONDS": "-1"}, "CACHE_TTL_SECONDS"),
        ({"CACHE_MAX_BYTES": "lots"}, "CACHE_MAX_BYTES"),
        ({"CACHE_X_ACCEL_LOCATION": "_sayna_cache/"}, "CACHE_X_ACCEL_LOCATION"),
        ({"CACHE_X_ACCEL_LOCATION": "/_sayna_cache"}, "CACHE_X_ACCEL_LOCATION"),
        ({"CACHE_X_ACCEL_LOCATION": "/a/../b/"}, "CACHE_X_ACCEL_LOCATION"),
        ({"SIP_OUTBOUND_ADDRESS": "sip.example.com"}, "SIP_ROOM_PREFIX"),
        ({"SIP_ROOM_PREFIX": "call", "SIP_HOOKS_JSON": "{"}, "SIP_HOOKS_JSON"),
        ({"SIP_ROOM_PREFIX": "call", "SIP_OUTBOUND_AUTH_USERNAME": "u"}, "SIP_OUTBOUND_AUTH_PASSWORD"),
        ({"RECORDING_BACKEND": "azure"}, "RECORDING_BACKEND"),
        ({"RECORDING_BACKEND": "gcs"}, "RECORDING_GCS_BUCKET"),
        ({"RECORDING_S3_BUCKET": "b"}, "RECORDING_S3_REGION"),
    ],
)
def test_invalid_configuration_names_the_variable(env, named):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_api_secrets_from_json_and_legacy_variables():
    many = Settings.from_env(
        {"AUTH_API_SECRETS_JSON": json.dumps([{"id": "acme", "secret": "s-1"}, {"id": "globex", "secret": "s-2"}])}
    )
    assert [s.id for s in many.auth.api_secrets] == ["acme", "globex"]
    legacy = Settings.from_env({"AUTH_API_SECRET": "only-one", "AUTH_REQUIRED": "yes"})
    assert legacy.auth.required and [(s.id, s.secret) for s in legacy.auth.api_secrets] == [("default", "only-one")]


def test_secrets_never_appear_in_the_settings_repr():
    settings = Settings.from_env(
        {
            "AUTH_API_SECRET": "hunter2-secret",
            "LIVEKIT_API_SECRET": "lk-secret-value",
            "DEEPGRAM_API_KEY": "dg-key-value",
            "SIP_ROOM_PREFIX": "call",
            "SIP_OUTBOUND_AUTH_USERNAME": "u",
            "SIP_OUTBOUND_AUTH_PASSWORD": "sip-password",
        }
    )
    text = repr(settings)
    for secret in ("hunter2-secret", "lk-secret-value", "dg-key-value", "sip-password"):
        assert secret not in text


def test_dotenv_file_is_read_and_real_variables_win(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=4100\nHOST=127.0.0.1\n")
    monkeypatch.setenv("PORT", "4200")
    settings = Settings.from_env(dotenv=dotenv)
    assert (settings.host, settings.port) == ("127.0.0.1", 4200)


def test_livekit_url_is_spoken_over_http():
    assert Settings.from_env({"LIVEKIT_URL": "wss://lk.example.com/"}).livekit.http_url == "https://lk.example.com"
    assert Settings.from_env({"LIVEKIT_URL": "ws://127.0.0.1:7880"}).livekit.http_url == "http://127.0.0.1:7880"


def test_the_x_accel_location_is_off_by_default_and_kept_when_valid():
    assert Settings.from_env({}).cache_accel_location is None
    assert Settings.from_env({"CACHE_X_ACCEL_LOCATION": " /_sayna_cache/ "}).cache_accel_location == "/_sayna_cache/"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CACHE_BACKEND": "redis"}, "CACHE_BACKEND"),
        ({"CACHE_BACKEND": "s3"}, "CACHE_S3_BUCKET"),
        ({"CACHE_BACKEND": "s3", "CACHE_S3_BUCKET": "a/b"}, "CACHE_S3_BUCKET"),
        ({"CACHE_S3_BUCKET": "audio"}, "CACHE_S3_BUCKET is set but CACHE_BACKEND is not s3"),
        ({"CACHE_BACKEND": "s3", "CACHE_S3_BUCKET": "audio", "CACHE_S3_PREFIX": "a/../b"}, "CACHE_S3_PREFIX"),
        ({"CACHE_BACKEND": "s3", "CACHE_S3_BUCKET": "audio", "CACHE_S3_PREFIX": "/"}, "CACHE_S3_PREFIX"),
        ({"CACHE_BACKEND": "s3", "CACHE_S3_BUCKET": "audio", "CACHE_S3_ACCESS_KEY": "AKIA1"}, "CACHE_S3_SECRET_KEY"),
        ({"CACHE_BACKEND": "s3", "CACHE_S3_BUCKET": "audio", "CACHE_S3_SECRET_KEY": "s"}, "CACHE_S3_ACCESS_KEY"),
        ({"CACHE_BACKEND": "s3", "CACHE_S3_BUCKET": "audio", "CACHE_S3_ENDPOINT": "minio:9000"}, "CACHE_S3_ENDPOINT"),
        ({"CACHE_BACKEND": "s3", "CACHE_S3_BUCKET": "audio", "CACHE_S3_FORCE_PATH_STYLE": "often"}, "PATH_STYLE"),
        ({"CACHE_BACKEND": "s3", "CACHE_S3_BUCKET": "audio", "CACHE_LOCAL_MAX_BYTES": "1000"}, "CACHE_LOCAL_MAX_BYTES"),
        ({"CACHE_ORPHAN_GRACE_SECONDS": "-5"}, "CACHE_ORPHAN_GRACE_SECONDS"),
    ],
)
def test_invalid_cache_storage_names_the_variable_in_one_line(env, named):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert named in str(caught.value) and "\n" not in str(caught.value)


def test_the_cache_is_a_local_directory_by_default_and_a_bucket_with_s3():
    assert Settings.from_env({}).cache.backend == "file" and not Settings.from_env({}).cache.shared
    cache = Settings.from_env(
        {
            "CACHE_BACKEND": "S3",
            "CACHE_S3_BUCKET": " audio ",
            "CACHE_S3_PREFIX": "/sayna/cache/",
            "CACHE_S3_ENDPOINT": "http://127.0.0.1:9000/",
            "CACHE_S3_ACCESS_KEY": "minio",
            "CACHE_S3_SECRET_KEY": "minio-secret-key",
            "CACHE_S3_FORCE_PATH_STYLE": "true",
            "CACHE_LOCAL_MAX_BYTES": str(64 << 20),
        }
    ).cache
    assert (cache.backend, cache.shared, cache.s3_bucket, cache.s3_prefix) == ("s3", True, "audio", "sayna/cache")
    assert (cache.s3_endpoint, cache.s3_region, cache.s3_force_path_style) == (
        "http://127.0.0.1:9000",
        "us-east-1",
        True,
    )
    assert (cache.local_max_bytes, cache.orphan_grace_seconds) == (64 << 20, 300)
    assert "minio-secret-key" not in repr(cache)
    chain = Settings.from_env({"CACHE_BACKEND": "s3", "CACHE_S3_BUCKET": "audio"}).cache
    assert (chain.s3_access_key, chain.s3_secret_key, chain.s3_prefix) == (None, None, "cache")


def test_a_cache_endpoint_with_credentials_is_refused_without_echoing_them():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {"CACHE_BACKEND": "s3", "CACHE_S3_BUCKET": "audio", "CACHE_S3_ENDPOINT": "http://key:hunter2@minio:9000"}
        )
    assert "CACHE_S3_ENDPOINT" in str(caught.value) and "hunter2" not in str(caught.value)
