"""What `create_app` binds to each app: the Api class (one instance per app) and the services, reached
through `services()`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app
from flask_smorest import Api as _Api
from marshmallow import Schema, fields

if TYPE_CHECKING:
    from app.services.container import Services


class ErrorSchema(Schema):
    """The body of every error response."""

    error = fields.String(
        required=True, metadata={"description": "Human-readable message", "example": "text: cannot be empty"}
    )
    code = fields.String(
        required=True, metadata={"description": "Machine-readable snake_case code", "example": "invalid_request"}
    )


class Api(_Api):
    ERROR_SCHEMA = ErrorSchema
    # No catch-all `default` response: every status an operation answers is listed (app.api.openapi).
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app: Flask | None = None, *, auth_required: bool = False, spec_kwargs: dict | None = None):
        from app.api.openapi import ErrorResponses, exclusive_bounds  # the HTTP layer, imported with an app

        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), ErrorResponses(auth_required)]
        super().__init__(app, spec_kwargs=spec_kwargs)
        self.ma_plugin.converter.add_attribute_function(exclusive_bounds)


SERVICES_KEY = "services"


def services(app: Flask | None = None) -> Services:
    """The domain services of `app`, or of the app serving the current request or CLI command."""
    return (app or current_app).extensions[SERVICES_KEY]
