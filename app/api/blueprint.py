"""flask-smorest building blocks with our conventions: validation failures are 400 (not 422), bodies are
parsed by `app.strict_json`, and request schemas accept `null` for every optional field because the
official Python SDK sends it."""

from __future__ import annotations

import flask_smorest
from marshmallow import EXCLUDE, Schema, ValidationError
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from app import strict_json
from app.errors import BadRequest


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        if not data:
            return core.missing
        try:
            return strict_json.loads(data)
        except strict_json.InvalidJson as exc:
            raise BadRequest(f"Invalid JSON body: {exc}") from None

    def load_querystring(self, req, schema):
        for key, value in req.args.items(multi=True):
            try:
                strict_json.check_string(key)
                strict_json.check_string(value)
            except strict_json.InvalidJson as exc:
                raise BadRequest(f"Invalid query string: {exc}") from None
        return super().load_querystring(req, schema)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()


class RequestSchema(Schema):
    """Base of every request body schema: unknown keys are ignored (SDKs send extra ones) and every
    optional field accepts `null`."""

    class Meta:
        unknown = EXCLUDE

    def on_bind_field(self, field_name, field_obj):
        if not field_obj.required:
            field_obj.allow_none = True


def not_blank(value: str) -> None:
    """Validator: the string must have something besides white space."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("cannot be empty")
