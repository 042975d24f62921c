from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from tests.fakes.auth_service import FakeAuthService, write_private_key
from tests.fakes.server import FakeServer, unused_port_url


def _delegate(world, url: str) -> None:
    key_path = world.tmp_path / "auth-signing-key.pem"
    public_key = write_private_key(key_path)
    world.set("AUTH_REQUIRED", "true")
    world.set("AUTH_SIGNING_KEY_PATH", str(key_path))
    world.set("AUTH_SERVICE_URL", url)
    return public_key


@given("authentication is delegated to the customer's auth service")
def delegated_auth(world):
    key_path = world.tmp_path / "auth-signing-key.pem"
    public_key = write_private_key(key_path)
    service = FakeAuthService(public_key)
    server = world.start_fake("auth", FakeServer(service.app))
    server.service = service
    world.set("AUTH_REQUIRED", "true")
    world.set("AUTH_SIGNING_KEY_PATH", str(key_path))
    world.set("AUTH_SERVICE_URL", server.url + "/auth")


@given("authentication is delegated to an auth service that cannot be reached")
def unreachable_auth(world):
    _delegate(world, unused_port_url() + "/auth")


@given(parsers.parse("the auth service answers after {slow:d} seconds and the server waits {wait:d} second"))
def slow_auth_service(world, slow, wait):
    world.fakes["auth"].service.slow_seconds = slow
    world.set("AUTH_TIMEOUT_SECONDS", str(wait))


@then(parsers.parse('the auth service was asked once, about "{method} {path}" with the token "{token}"'))
def auth_service_asked(world, method, path, token):
    calls = world.fakes["auth"].service.calls
    assert len(calls) == 1, calls
    data = calls[0]["auth_data"]
    assert (data["request_method"], data["request_path"], data["token"]) == (method, path, token)
    assert "authorization" not in data["request_headers"]


@then("the auth service was not asked")
def auth_service_not_asked(world):
    assert world.fakes["auth"].service.calls == []


@when(parsers.parse('I call {method} "{path}" without a token'))
def call_without_token(world, method, path):
    body = None if method in ("GET", "HEAD") else "{}"
    world.request(method, path, data=body, content_type="application/json")


@then("the response status is not 401")
def status_not_401(world):
    assert world.response.status_code != 401, world.response.get_data(as_text=True)
