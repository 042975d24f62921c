"""Extensions created once and bound to each app in `create_app`."""
from flask_smorest import Api as _Api
from marshmallow import Schema, fields


class ErrorSchema(Schema):
    """The body of every error response."""
    error = fields.String(required=True, metadata={"description": "Human-readable message",
                                                   "example": "text: cannot be empty"})
    code = fields.String(required=True, metadata={"description": "Machine-readable snake_case code",
                                                  "example": "invalid_request"})


class Api(_Api):
    ERROR_SCHEMA = ErrorSchema


api = Api()
