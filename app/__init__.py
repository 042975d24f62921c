"""The Sayna-compatible voice API server."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Flask, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix

from app.cli.cache import register_cache_cli
from app.db.migrate import upgrade_to_head
from app.extensions import SERVICES_KEY, Api
from app.log import configure_logging
from app.request_input import init_input_limits
from app.request_log import init_request_logging
from app.security import init_security
from app.services.container import Services
from app.services.startup import check_default_speech, ensure_writable_directories, open_database
from app.settings import Settings

API_VERSION = "1.0.0"
MAX_REQUEST_BYTES = 1 << 20  # every request body is small JSON; anything larger is a 413
_DOCS_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    redactor = configure_logging(settings)

    app = Flask(__name__)
    app.url_map.strict_slashes = False  # SDKs follow redirects, turning a POST into a GET: never redirect
    app.config.update(_openapi_config(settings.auth.required))
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's DefaultJSONProvider has it

    ensure_writable_directories(settings)
    database = open_database(settings.database_url)
    if settings.auto_migrate:
        upgrade_to_head(database, settings.data_dir / ".migrate.lock")
    services = app.extensions[SERVICES_KEY] = Services(settings, database)
    check_default_speech(settings, services.speech.providers)

    from app.api import register_blueprints  # the HTTP layer is imported when an app is built
    from app.api.errors import register_error_handlers
    from app.api.metrics import init_metrics
    from app.api.playground.routes import blp as playground
    from app.api.speak.fast_hits import FastHits

    init_request_logging(app)
    init_input_limits(app, MAX_REQUEST_BYTES)
    init_metrics(app, services)
    init_security(app, services.authenticator)
    api = Api(app, auth_required=settings.auth.required)  # one per app: its document describes this app only
    _document_security(api)
    register_blueprints(api)
    register_error_handlers(app, redactor)
    register_cache_cli(app)
    app.add_url_rule(
        "/docs/assets/<path:filename>", "docs_assets", lambda filename: send_from_directory(_DOCS_ASSETS, filename)
    )
    app.add_url_rule(
        "/favicon.ico", "favicon", lambda: send_from_directory(_DOCS_ASSETS, "favicon-32x32.png", mimetype="image/png")
    )
    app.register_blueprint(playground)
    app.wsgi_app = FastHits(app, app.wsgi_app)  # type: ignore[method-assign]  # Flask's documented way to add middleware
    if settings.trusted_proxies:  # behind nginx (deploy/nginx.conf): the client's address, not the proxy's
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    return app


def _openapi_config(auth_required: bool) -> dict:
    security: list[dict] = [{"bearerAuth": []}, {"apiKeyQuery": []}] if auth_required else []
    return {
        "API_TITLE": "Sayna voice API",
        "API_VERSION": API_VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Swagger UI's assets come from the swagger-ui-bundle wheel, served by us: no CDN, works offline.
        "OPENAPI_SWAGGER_UI_URL": "/docs/assets/",
        "API_SPEC_OPTIONS": {
            "info": {
                "description": "REST surface of a real-time voice platform. When AUTH_REQUIRED=true, "
                "send `Authorization: Bearer <token>` or `?api_key=<token>`. "
                "Hear it in the [playground](/playground)."
            },
            "security": security,
        },
    }


def _document_security(api: Api) -> None:
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme("apiKeyQuery", {"type": "apiKey", "in": "query", "name": "api_key"})
