"""Turning a provider's error answer into our error, without ever echoing credentials."""
from __future__ import annotations

import requests

from app.errors import ApiError, BadRequest, UpstreamError

_MAX_DETAIL = 300


def provider_error(name: str, response: requests.Response, detail: str) -> ApiError:
    """A refused request (bad voice, text too long) is the caller's 400; refused credentials and
    provider failures are our 500, naming the provider and its cause."""
    status = response.status_code
    detail = (detail or response.reason or "no detail").strip()[:_MAX_DETAIL]
    if status in (401, 402, 403):
        return UpstreamError(f"{name} refused the server's credentials ({status}): {detail}",
                             code="provider_auth_failed")
    if status in (400, 404, 413, 422):
        return BadRequest(f"{name} rejected the request ({status}): {detail}", code="provider_rejected_request")
    return UpstreamError(f"{name} failed ({status}): {detail}", code="provider_error")


def json_or_none(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None
