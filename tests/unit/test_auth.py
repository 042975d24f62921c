"""The authenticator without HTTP in front of it (the delegated mode still talks to a real local
auth service, which verifies our JWT with the public key)."""

import pytest

from app.errors import ApiError
from app.services.auth import AuthContext, Authenticator, RequestInfo, extract_token
from app.services.auth.delegated import DelegatedAuthClient, forwarded_headers
from app.settings import Settings, SettingsError
from tests.fakes.auth_service import FakeAuthService, write_private_key
from tests.fakes.server import FakeServer

REQUEST = RequestInfo(
    method="POST", path="/speak", headers={"Content-Type": "application/json"}, body=b'{"text": "hi"}'
)


def _code(excinfo) -> tuple[int, str]:
    return excinfo.value.status, excinfo.value.code


@pytest.mark.parametrize(
    ("header", "query", "token"),
    [
        ("Bearer abc", None, "abc"),
        (None, "abc", "abc"),
        ("Bearer abc", "other", "abc"),
        ("Token abc", "qq", "qq"),
        ("bearer abc", "qq", "qq"),
        ("Bearer ", "qq", "qq"),
    ],
)
def test_token_comes_from_the_bearer_header_then_the_query(header, query, token):
    assert extract_token(header, query) == token


@pytest.mark.parametrize(
    ("header", "query", "code"),
    [
        (None, None, "missing_auth_header"),
        (None, "   ", "missing_auth_header"),
        ("Basic xyz", None, "invalid_auth_header"),
        ("Bearer ", None, "invalid_auth_header"),
        ("Bearer caf\u00e9", None, "invalid_auth_header"),
    ],
)
def test_missing_or_malformed_tokens_are_401(header, query, code):
    with pytest.raises(ApiError) as caught:
        extract_token(header, query)
    assert _code(caught) == (401, code)


def test_auth_off_identifies_nobody():
    authenticator = Authenticator(Settings.from_env({}).auth)
    assert authenticator.authenticate(None, None, REQUEST) == AuthContext()


def test_api_secret_identifies_its_tenant():
    settings = Settings.from_env(
        {
            "AUTH_REQUIRED": "true",
            "AUTH_API_SECRETS_JSON": '[{"id": "client-a", "secret": "token-a"}, {"id": "client-b", "secret": "token-b"}]',
        }
    )
    authenticator = Authenticator(settings.auth)
    assert authenticator.authenticate("Bearer token-b", None, REQUEST).tenant == "client-b"
    with pytest.raises(ApiError) as caught:
        authenticator.authenticate("Bearer token-c", None, REQUEST)
    assert _code(caught) == (401, "unauthorized")


def test_blank_tenant_ids_count_as_none():
    assert AuthContext("  ").tenant is None
    assert AuthContext(" acme ").tenant == "acme"


def test_forwarded_headers_drop_credentials_and_proxy_headers():
    kept = forwarded_headers(
        {
            "Authorization": "Bearer x",
            "Cookie": "c",
            "Host": "h",
            "X-Real-IP": "1",
            "X-Forwarded-For": "2",
            "X-Sayna-Thing": "3",
            "User-Agent": "curl",
            "X-Custom": "ok",
        }
    )
    assert kept == {"user-agent": "curl", "x-custom": "ok"}


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_delegated_mode_sends_a_verifiable_jwt_describing_the_request(tmp_path, kind):
    key_path = tmp_path / "key.pem"
    service = FakeAuthService(write_private_key(key_path, kind))
    with FakeServer(service.app) as server:
        settings = Settings.from_env(
            {"AUTH_REQUIRED": "true", "AUTH_SERVICE_URL": server.url + "/auth", "AUTH_SIGNING_KEY_PATH": str(key_path)}
        )
        authenticator = Authenticator(settings.auth)
        context = authenticator.authenticate("Bearer allow:initech", None, REQUEST)
        authenticator.close()
    assert context.tenant == "initech"
    [claims] = service.calls
    assert claims["auth_data"] == {
        "token": "allow:initech",
        "request_body": {"text": "hi"},
        "request_headers": {"content-type": "application/json"},
        "request_path": "/speak",
        "request_method": "POST",
    }
    assert claims["exp"] - claims["iat"] == 300


def test_api_secrets_win_over_the_auth_service(tmp_path):
    key_path = tmp_path / "key.pem"
    service = FakeAuthService(write_private_key(key_path))
    with FakeServer(service.app) as server:
        settings = Settings.from_env(
            {
                "AUTH_REQUIRED": "true",
                "AUTH_API_SECRET": "the-secret",
                "AUTH_SERVICE_URL": server.url + "/auth",
                "AUTH_SIGNING_KEY_PATH": str(key_path),
            }
        )
        authenticator = Authenticator(settings.auth)
        with pytest.raises(ApiError) as caught:
            authenticator.authenticate("Bearer allow:initech", None, REQUEST)
        authenticator.close()
    assert _code(caught) == (401, "unauthorized")
    assert service.calls == []


@pytest.mark.parametrize(("kind", "algorithm"), [("rsa", "RS256"), ("ec", "ES256")])
def test_the_signing_key_picks_its_algorithm(tmp_path, kind, algorithm):
    key = tmp_path / "key.pem"
    write_private_key(key, kind)
    settings = Settings.from_env(
        {"AUTH_SERVICE_URL": "http://auth", "AUTH_SIGNING_KEY_PATH": str(key), "AUTH_REQUIRED": "true"}
    )
    client = DelegatedAuthClient(settings.auth)
    client.close()
    assert client.algorithm == algorithm


def test_an_unparseable_signing_key_stops_the_auth_service(tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    settings = Settings.from_env({"AUTH_SERVICE_URL": "http://auth", "AUTH_SIGNING_KEY_PATH": str(key)})
    with pytest.raises(SettingsError, match="AUTH_SIGNING_KEY_PATH"):
        Authenticator(settings.auth)
