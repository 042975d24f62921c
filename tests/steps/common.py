"""Sentences shared by every feature file. Endpoint-specific steps live in their own step modules."""

from __future__ import annotations

import json

import pytest
from pytest_bdd import given, parsers, then, when

from tests.steps.world import World


@pytest.fixture
def world(make_app, tmp_path):
    w = World(make_app=make_app, tmp_path=tmp_path)
    yield w
    w.close()


# --- Given -----------------------------------------------------------------------------------------


@given("the server runs on its embedded defaults")
def embedded_defaults(world):
    pass


@given(parsers.parse('the setting {name} is "{value}"'))
def a_setting(world, name, value):
    world.set(name, value)


@given(parsers.parse('tenant "{tenant}" has the API secret "{secret}"'))
def tenant_api_secret(world, tenant, secret):
    world.add_api_secret(tenant, secret)


# --- When ------------------------------------------------------------------------------------------


@when(parsers.parse('I GET "{path}"'))
def get_path(world, path):
    world.request("GET", path)


@when(parsers.parse('I GET "{path}" with the token "{token}"'))
def get_with_bearer(world, path, token):
    world.request("GET", path, headers={"Authorization": f"Bearer {token}"})


@when(parsers.parse('I GET "{path}" with the token "{token}" in the api_key query parameter'))
def get_with_query_token(world, path, token):
    world.request("GET", path, query_string={"api_key": token})


@when(
    parsers.parse(
        'I GET "{path}" with the token "{token}" in the api_key query parameter and the Authorization header "{value}"'
    )
)
def get_with_query_token_and_header(world, path, token, value):
    world.request("GET", path, query_string={"api_key": token}, headers={"Authorization": value})


@when(parsers.parse('I GET "{path}" with the Authorization header "{value}"'))
def get_with_header(world, path, value):
    world.request("GET", path, headers={"Authorization": value})


@when(parsers.parse('I {method} "{path}" with the JSON body:'))
def send_json(world, method, path, docstring):
    world.request(method.upper(), path, data=docstring, content_type="application/json")


@when(parsers.parse('I {method} "{path}" with the body "{body}"'))
def send_raw(world, method, path, body):
    world.request(method.upper(), path, data=body, content_type="application/json")


# --- Then ------------------------------------------------------------------------------------------


@then(parsers.parse("the response status is {status:d}"))
def response_status(world, status):
    assert world.response.status_code == status, (world.response.status_code, world.response.get_data(as_text=True))


@then("the response JSON is:")
def response_json_is(world, docstring):
    assert world.response.is_json, world.response.content_type
    assert world.response.get_json() == json.loads(docstring)


@then(parsers.parse('the response field "{key}" is "{value}"'))
def response_field(world, key, value):
    body = world.response.get_json()
    for part in key.split("."):
        body = body[part]
    assert str(body) == value, body


@then(parsers.parse('the error code is "{code}"'))
def error_code(world, code):
    body = world.response.get_json()
    assert world.response.is_json and set(body) == {"error", "code"}, body
    assert body["code"] == code, body


@then(parsers.parse('the error message contains "{text}"'))
def error_message_contains(world, text):
    assert text in world.response.get_json()["error"], world.response.get_json()


@then(parsers.parse('the error message does not contain "{text}"'))
def error_message_omits(world, text):
    assert text not in world.response.get_data(as_text=True)


@then("the response carries a request id")
def has_request_id(world):
    assert len(world.response.headers.get("X-Request-ID", "")) >= 16


@then(parsers.parse('I am identified as tenant "{tenant}"'))
def identified_as(world, tenant):
    assert world.response.status_code == 200, world.response.get_data(as_text=True)
    assert world.response.get_json() == {"tenant": tenant}


@then("I am identified as no tenant")
def identified_as_nobody(world):
    assert world.response.status_code == 200, world.response.get_data(as_text=True)
    assert world.response.get_json() == {"tenant": None}
