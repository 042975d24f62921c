"""Flask side of authentication: every route is protected unless marked `@public`."""

from __future__ import annotations

from flask import Flask, current_app, g, request

from app.services.auth import AuthContext, Authenticator, RequestInfo

_PUBLIC_ENDPOINTS = {
    "static",
    "docs_assets",
    "api-docs.openapi_json",
    "api-docs.openapi_swagger_ui",
    "playground.static",
    "favicon",
}


def public(view):
    """Mark a view as reachable without a token (health, docs, LiveKit's signed webhook)."""
    view._public = True
    return view


def current_auth() -> AuthContext:
    return g.get("auth") or AuthContext()


def current_tenant() -> str | None:
    """The caller's tenant id, or None when auth is off (no isolation)."""
    return current_auth().tenant


def _is_public() -> bool:
    if request.endpoint is None:  # unknown path or wrong method: let routing answer 404/405
        return True
    if request.endpoint in _PUBLIC_ENDPOINTS:
        return True
    view = current_app.view_functions.get(request.endpoint)
    return bool(getattr(view, "_public", False) or getattr(getattr(view, "view_class", None), "_public", False))


def init_security(app: Flask, authenticator: Authenticator) -> None:

    @app.before_request
    def _authenticate():
        if not authenticator.required or _is_public():
            g.auth = AuthContext()
            return None
        info = RequestInfo(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            body=request.get_data(cache=True) if authenticator.settings.delegated and request.method != "GET" else b"",
        )
        g.auth = authenticator.authenticate(request.headers.get("Authorization"), request.args.get("api_key"), info)
        return None
