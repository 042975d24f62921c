"""flask-smorest building blocks with our conventions: validation failures are 400 (not 422), bodies are
parsed by `app.strict_json`, and request schemas accept `null` for every optional field because the
official Python SDK sends it."""

from __future__ import annotations

import flask_smorest
from marshmallow import EXCLUDE, Schema, ValidationError, validate
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


class _NotBlank(validate.Length):
    """The string must have something besides white space; a Length, so the document says `minLength: 1`."""

    def __init__(self):
        super().__init__(min=1, error="cannot be empty")

    def __call__(self, value):
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("cannot be empty")
        return value


not_blank = _NotBlank()
