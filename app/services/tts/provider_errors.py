"""Turning a provider's error answer into our error, without ever echoing credentials."""

from __future__ import annotations

import requests

from app.errors import ApiError, BadRequest, NotConfigured, UpstreamError

_MAX_DETAIL = 300


def provider_error(name: str, response: requests.Response, detail: str, *, per_request: bool = False) -> ApiError:
    """A refused request (bad voice, text too long) is the caller's 400; refused credentials and
    provider failures are our 500, naming the provider and its cause. Credentials the request brought
    itself (`tts_config.auth`) are the caller's problem: refused, they are a 400, as upstream."""
    status = response.status_code
    detail = (detail or response.reason or "no detail").strip()[:_MAX_DETAIL]
    if status in (401, 402, 403):
        return credentials_refused(name, f"({status}): {detail}", per_request=per_request)
    if status in (400, 404, 413, 422):
        return BadRequest(f"{name} rejected the request ({status}): {detail}", code="provider_rejected_request")
    return UpstreamError(f"{name} failed ({status}): {detail}", code="provider_error")


def credentials_refused(name: str, detail: str, *, per_request: bool) -> ApiError:
    if per_request:
        return BadRequest(f"{name} refused the request's credentials {detail}", code="provider_auth_failed")
    return UpstreamError(f"{name} refused the server's credentials {detail}", code="provider_auth_failed")


def invalid_credentials(message: str, *, per_request: bool) -> ApiError:
    """Credentials that cannot even be used (a missing file, unreadable JSON): the caller's 400 when the
    request brought them, our 500 when they are the server's configuration."""
    if per_request:
        return BadRequest(message, code="invalid_provider_auth")
    return NotConfigured(message, code="provider_not_configured")


def json_or_none(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None
