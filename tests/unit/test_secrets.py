"""No secret reaches a caller or a log line, including text a provider (or a proxy) echoes back."""

import io
import logging

import pytest

from app.log import AppLogHandler
from app.redaction import SecretRedactor, configured_secrets
from tests.fakes.misbehaving import Answer, MisbehavingProvider

SERVER_KEY = "dg0123456789abcdef0123456789abcdef0123"
CALLER_KEY = "caller-own-key-5e1d9c"
ELEVEN_KEY = "sk_3f9a0c1b2d4e5f60718293a4b5c6d7e8"


@pytest.fixture
def provider():
    with MisbehavingProvider() as server:
        yield server


@pytest.fixture
def logs():
    """What the app's JSON log handler writes, for the apps built in the test."""
    stream = io.StringIO()
    yield stream


def _app(make_app, provider, logs):
    app = make_app(
        DEEPGRAM_API_KEY=SERVER_KEY,
        DEEPGRAM_BASE_URL=provider.url,
        ELEVENLABS_API_KEY=ELEVEN_KEY,
        ELEVENLABS_BASE_URL=provider.url,
        LOG_LEVEL="INFO",
    )
    next(h for h in logging.getLogger().handlers if isinstance(h, AppLogHandler)).setStream(logs)
    return app


ECHOES = {  # (status, provider, the header it echoes, content type, the body)
    "deepgram refusing the server's key": (
        "401 Unauthorized",
        "deepgram",
        "Authorization",
        "application/json",
        b'{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials: {echo}","request_id":"1"}',
    ),
    "a proxy echoing the request in a 502": (
        "502 Bad Gateway",
        "deepgram",
        "Authorization",
        "text/plain",
        b"upstream refused the request with Authorization={echo}",
    ),
    "elevenlabs echoing its header": (
        "401 Unauthorized",
        "elevenlabs",
        "xi-api-key",
        "application/json",
        b'{"detail":{"status":"invalid_api_key","message":"Invalid API key: {echo}"}}',
    ),
}


@pytest.mark.parametrize("case", list(ECHOES))
def test_a_provider_echoing_the_servers_key_never_hands_it_to_the_caller(make_app, provider, logs, case):
    status, name, header, content_type, body = ECHOES[case]
    provider.answer = Answer(status=status, headers={"Content-Type": content_type}, body=body, echo_header=header)
    response = (
        _app(make_app, provider, logs)
        .test_client()
        .post("/speak", json={"text": "Hello", "tts_config": {"provider": name, "model": ""}})
    )
    assert response.status_code == 500 and name in response.json["error"]
    text = response.get_data(as_text=True) + logs.getvalue()
    assert SERVER_KEY not in text and ELEVEN_KEY not in text
    assert "***" in response.json["error"]  # the provider's text is kept, the key masked


def test_the_callers_own_key_echoed_back_is_masked_in_the_answer_and_the_logs(make_app, provider, logs):
    provider.answer = Answer(
        status="400 Bad Request",
        headers={"Content-Type": "application/json"},
        body=b'{"err_code":"Bad Request","err_msg":"key {echo} has no access to this model"}',
        echo_header="Authorization",
    )
    response = (
        _app(make_app, provider, logs)
        .test_client()
        .post(
            "/speak",
            json={
                "text": "Hello",
                "tts_config": {"provider": "deepgram", "model": "", "auth": {"api_key": CALLER_KEY}},
            },
        )
    )
    assert response.status_code == 400 and response.json["code"] == "provider_rejected_request"
    assert provider.requests[0]["headers"]["Authorization"] == f"Token {CALLER_KEY}"
    logging.getLogger("app.test").warning("provider said: %s", f"Invalid credentials: Token {CALLER_KEY}")
    assert CALLER_KEY not in response.get_data(as_text=True) + logs.getvalue()


@pytest.mark.parametrize(
    "text, secret",
    [
        ("Invalid credentials: Token 0123456789abcdef0123", "0123456789abcdef0123"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi.payload.sig"),
        ("headers {'xi-api-key': 'sk_4c1e2f3a4b5c6d7e8f90'}", "sk_4c1e2f3a4b5c6d7e8f90"),
        ("X-API-Key: cart-3f7a9b2c1d0e", "cart-3f7a9b2c1d0e"),
        ("Ocp-Apim-Subscription-Key: 9f8e7d6c5b4a39281706", "9f8e7d6c5b4a39281706"),
        ("x-goog-api-key=AIzaSyA1b2C3d4E5f6G7h8", "AIzaSyA1b2C3d4E5f6G7h8"),
        ("GET /v1/text:synthesize?key=AIzaSyZ9y8X7w6V5u4T3 failed", "AIzaSyZ9y8X7w6V5u4T3"),
    ],
)
def test_every_credential_form_we_send_is_masked(text, secret):
    assert secret not in SecretRedactor().redact(text)


def test_ordinary_words_after_token_or_bearer_are_kept():
    message = "Invalid Authorization header format (expected 'Bearer {token}'); token expired"
    assert SecretRedactor().redact(message) == message


def test_every_secret_the_settings_declare_is_known_to_the_redactor(make_settings):
    settings = make_settings(
        DEEPGRAM_API_KEY="dg-1111",
        ELEVENLABS_API_KEY="el-2222",
        LIVEKIT_API_SECRET="lk-3333",
        AUTH_API_SECRETS_JSON='[{"id": "a", "secret": "auth-4444"}]',
        RECORDING_S3_SECRET_KEY="s3-5555",
        RECORDING_S3_BUCKET="b",
        RECORDING_S3_ACCESS_KEY="ak",
        RECORDING_S3_REGION="r",
    )
    assert {"dg-1111", "el-2222", "lk-3333", "auth-4444", "s3-5555"} <= configured_secrets(settings)
    assert "ak" not in configured_secrets(settings)  # an access key id is not a secret
