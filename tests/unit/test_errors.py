"""The one place that turns errors into JSON: validation, routing, our own errors and surprises."""

import logging

import pytest
from flask import abort
from marshmallow import fields

from app.api.blueprint import Blueprint, RequestSchema, not_blank
from app.errors import Forbidden


class EchoSchema(RequestSchema):
    text = fields.String(required=True, validate=not_blank)
    rate = fields.Integer()
    nested = fields.Nested(lambda: NestedSchema())


class NestedSchema(RequestSchema):
    voice = fields.String()


@pytest.fixture
def client(make_app):
    blp = Blueprint("test_echo", __name__)

    @blp.route("/test/echo", methods=["POST"])
    @blp.arguments(EchoSchema)
    def echo(body):
        return body

    app = make_app()
    app.register_blueprint(blp)
    app.add_url_rule("/test/boom", "boom", lambda: 1 / 0)
    app.add_url_rule("/test/forbidden", "forbidden", lambda: (_ for _ in ()).throw(Forbidden("Not yours")))
    app.add_url_rule("/test/abort", "abort", lambda: abort(413))
    return app.test_client()


def test_valid_body_with_nulls_for_optional_fields_and_unknown_keys(client):
    response = client.post("/test/echo", json={"text": "hi", "rate": None, "nested": {"voice": None}, "extra": 1})
    assert response.status_code == 200
    assert response.get_json() == {"text": "hi", "rate": None, "nested": {"voice": None}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "text: Missing data for required field."),
        ({"text": "   "}, "text: cannot be empty"),
        ({"text": None}, "text: Field may not be null."),
        ({"text": "hi", "rate": "fast"}, "rate: Not a valid integer."),
        ({"text": "hi", "nested": {"voice": 5}}, "nested.voice: Not a valid string."),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(client, body, message):
    response = client.post("/test/echo", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"error": message, "code": "invalid_request"}


@pytest.mark.parametrize("raw", ['{"text": ', "[1, 2]", '"text"'])
def test_malformed_json_is_a_400(client, raw):
    response = client.post("/test/echo", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_request"


def test_api_errors_keep_their_status_and_code(client):
    response = client.get("/test/forbidden")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Not yours", "code": "forbidden"}


def test_werkzeug_errors_are_json(client):
    response = client.get("/test/abort")
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"


def test_unexpected_exception_is_a_generic_500_with_the_request_id(client, caplog):
    with caplog.at_level(logging.ERROR):
        response = client.get("/test/boom", headers={"X-Request-ID": "req-12345"})
    assert response.status_code == 500
    body = response.get_json()
    assert body == {"error": "Internal server error (request id req-12345)", "code": "internal_error"}
    assert "ZeroDivisionError" not in response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] == "req-12345"
    assert any("req-12345" in r.getMessage() for r in caplog.records)


def test_request_ids_that_could_forge_log_lines_are_replaced(client):
    response = client.get("/", headers={"X-Request-ID": "evil id; drop"})
    assert response.headers["X-Request-ID"] != "evil id; drop"
    assert len(response.headers["X-Request-ID"]) == 32


def test_oversized_bodies_are_refused_as_json(client):
    response = client.post("/test/echo", data=b'{"text": "' + b"a" * (2 << 20) + b'"}', content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"


def test_openapi_documents_our_error_shape(client):
    schema = client.get("/openapi.json").get_json()["components"]["schemas"]["Error"]
    assert set(schema["properties"]) == {"error", "code"}
