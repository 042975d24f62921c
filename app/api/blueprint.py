"""flask-smorest building blocks with our conventions: validation failures are 400 (not 422), and
request schemas accept `null` for every optional field because the official Python SDK sends it."""

from __future__ import annotations

import flask_smorest
from marshmallow import EXCLUDE, Schema, ValidationError
from webargs.flaskparser import FlaskParser


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400


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
