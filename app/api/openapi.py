"""The OpenAPI document declares the errors the server really answers, on every operation.

Views declare the errors of their own domain (`@blp.alt_response`); the ones every operation shares
are added here, so no operation can forget them: 401 when it is protected (with AUTH_REQUIRED=true: the
document describes the app as configured, so without auth it declares no security at all), 400 on
every operation (malformed JSON, a field out of bounds, and on any route a NUL or an unpaired surrogate
in the URL, even in a parameter the route does not take), 413 when it takes a body, 500 for a surprise, and on every error response the `{error, code}` body of `ErrorSchema`. There is no catch-all
`default` response, so a status missing here is a status the document does not declare.
"""

from __future__ import annotations

from apispec import BasePlugin
from marshmallow import validate

_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_UNAUTHORIZED = {"description": "Missing or wrong token when AUTH_REQUIRED=true (`unauthorized`)"}
_INVALID = {
    "description": "Malformed JSON, a field out of its bounds, or a URL holding a NUL or an unpaired surrogate "
    "(`invalid_request`)"
}
_TOO_LARGE = {"description": "The body is over 1 MiB (`payload_too_large`)"}
_UNEXPECTED = {"description": "An unexpected failure (`internal_error`); the message names the request id"}


def exclusive_bounds(converter, field, ret=None, **kwargs) -> dict:
    """`Range(min_inclusive=False)` as OpenAPI 3.0's boolean `exclusiveMinimum` (apispec leaves it out, which
    documents 0 as accepted where it is refused)."""
    bounds = {}
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            if validator.min is not None and not validator.min_inclusive:
                bounds["exclusiveMinimum"] = True
            if validator.max is not None and not validator.max_inclusive:
                bounds["exclusiveMaximum"] = True
    return bounds


class ErrorResponses(BasePlugin):
    def __init__(self, auth_required: bool):
        self.auth_required = auth_required

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            if self.auth_required and operation.get("security") != []:
                responses.setdefault("401", dict(_UNAUTHORIZED))
            responses.setdefault("400", dict(_INVALID))
            if "requestBody" in operation:
                responses.setdefault("413", dict(_TOO_LARGE))
            responses.setdefault("500", dict(_UNEXPECTED))
            for status, response in responses.items():
                if str(status)[0] in "45" and isinstance(response, dict) and "content" not in response:
                    response["content"] = _ERROR_BODY
