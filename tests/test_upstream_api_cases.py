"""The upstream server's own REST test cases (`tests/api_tests.rs` in SaynaAI/sayna), replayed against our
app with the same requests and the same expectations. Our deliberate departures: the health body is `{"status": "ok"}`
(upstream "OK"; the SDKs accept any string), and error bodies carry `code` beside `error`.

Upstream's configuration is mirrored: a Deepgram key "test_key" that the real Deepgram refuses (here a
fake Deepgram that knows another key), and nothing else configured unless a case says so."""

from __future__ import annotations

import pytest

from tests.fakes.deepgram import FakeDeepgram
from tests.fakes.server import FakeServer


def _tts(provider: str, model: str, voice_id: str, **extra) -> dict:
    return {
        "provider": provider,
        "model": model,
        "voice_id": voice_id,
        "audio_format": "linear16",
        "sample_rate": 24000,
        "pronunciations": [],
        **extra,
    }


DEEPGRAM = _tts("deepgram", "aura-asteria-en", "aura-asteria-en")
GOOGLE = _tts("google", "en-US-Wavenet-D", "en-US-Wavenet-D")

# (upstream test name, settings beyond upstream's base config, request body, status, check of the JSON body)
CASES = [
    (
        "test_speak_endpoint_missing_api_key",
        {"DEEPGRAM_API_KEY": ""},
        {"text": "Hello, this is a test.", "tts_config": DEEPGRAM},
        500,
        None,
    ),
    (
        "test_speak_endpoint_empty_text",
        {},
        {"text": "", "tts_config": DEEPGRAM},
        400,
        lambda error: error == "Text cannot be empty",
    ),
    (
        "test_speak_endpoint_with_pronunciations",
        {},
        {
            "text": "The API and TTS systems are working well.",
            "tts_config": {
                **DEEPGRAM,
                "pronunciations": [
                    {"word": "API", "pronunciation": "A P I"},
                    {"word": "TTS", "pronunciation": "text to speech"},
                ],
            },
        },
        500,
        None,
    ),
    (
        "test_speak_endpoint_invalid_provider",
        {},
        {"text": "Hello, test.", "tts_config": _tts("invalid_provider", "", "test_voice")},
        400,
        lambda error: "Unsupported provider" in error,
    ),
    (
        "test_speak_endpoint_invalid_auth_input_returns_bad_request",
        {"AZURE_SPEECH_SUBSCRIPTION_KEY": "server-key", "AZURE_SPEECH_REGION": "eastus"},
        {
            "text": "Hello, test.",
            "tts_config": _tts("azure", "en-US-JennyNeural", "en-US-JennyNeural", auth={"api_key": "session-key"}),
        },
        400,
        lambda error: "Auth field 'region' is required" in error,
    ),
    (
        "test_speak_endpoint_google_empty_credentials_returns_bad_request",
        {"GOOGLE_APPLICATION_CREDENTIALS": "/tmp/server-creds.json"},
        {"text": "Hello, test.", "tts_config": {**GOOGLE, "auth": {"credentials": ""}}},
        400,
        lambda error: "Auth field 'credentials' is required" in error,
    ),
    (
        "test_speak_endpoint_google_missing_project_id_in_request_auth_returns_bad_request",
        {},
        {
            "text": "Hello, test.",
            "tts_config": {
                **GOOGLE,
                "auth": {
                    "credentials": {
                        "type": "authorized_user",
                        "client_id": "test-client-id.apps.googleusercontent.com",
                        "client_secret": "test-client-secret",
                        "refresh_token": "test-refresh-token",
                    }
                },
            },
        },
        400,
        lambda error: any(word in error.lower() for word in ("project_id", "credential", "authentication")),
    ),
    (
        "test_speak_endpoint_google_missing_request_credential_file_returns_bad_request",
        {},
        {
            "text": "Hello, test.",
            "tts_config": {**GOOGLE, "auth": {"credentials": "/definitely/missing/request-creds.json"}},
        },
        400,
        lambda error: "Credential file not found" in error,
    ),
    (
        "test_speak_endpoint_server_google_credentials_error_remains_internal_server_error",
        {"GOOGLE_APPLICATION_CREDENTIALS": "/definitely/missing/server-creds.json"},
        {"text": "Hello, test.", "tts_config": GOOGLE},
        500,
        lambda error: "Credential file not found" in error,
    ),
    (
        "test_speak_endpoint_empty_auth_object_falls_back_to_server_auth",
        {"DEEPGRAM_API_KEY": ""},
        {"text": "Hello, test.", "tts_config": {**DEEPGRAM, "auth": {}}},
        500,
        lambda error: "Missing server auth for provider deepgram" in error,
    ),
]


@pytest.fixture(scope="module")
def deepgram():
    """The real Deepgram refuses upstream's "test_key"; so does this one."""
    fake = FakeDeepgram(api_key="a-key-that-is-not-test_key")
    with FakeServer(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def upstream_app(make_app, deepgram):
    def build(**env):
        settings = {
            "DEEPGRAM_API_KEY": "test_key",
            "DEEPGRAM_BASE_URL": deepgram.url,
            "TTS_MAX_RETRIES": "0",
            "AUTH_REQUIRED": "false",
            **env,
        }
        return make_app(**settings)

    return build


def test_health_check(upstream_app):
    response = upstream_app().test_client().get("/")
    assert response.status_code == 200
    assert response.get_json()["status"].upper() == "OK"  # departure: "ok", as the REST guide says


@pytest.mark.parametrize("name, env, body, status, check", CASES, ids=[case[0] for case in CASES])
def test_upstream_speak_case(upstream_app, name, env, body, status, check):
    response = upstream_app(**env).test_client().post("/speak", json=body)
    assert response.status_code == status, (name, response.get_data(as_text=True))
    payload = response.get_json()
    assert set(payload) == {"error", "code"}  # departure: one error shape, with a code
    if check is not None:
        assert check(payload["error"]), payload


def test_pronunciations_reach_the_provider_rewritten(upstream_app, deepgram):
    """Upstream's pronunciation case only shows the field is accepted; here the words are seen rewritten."""
    body = CASES[2][2]
    upstream_app().test_client().post("/speak", json=body)
    assert '"The A P I and text to speech systems are working well."' in deepgram.speak_calls[-1]["body"]
