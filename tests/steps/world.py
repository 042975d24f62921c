"""The state one BDD scenario builds up: settings, fake upstream servers, the app, the last response."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask import jsonify


@dataclass
class World:
    make_app: object
    tmp_path: object
    env: dict[str, str] = field(default_factory=dict)
    fakes: dict[str, object] = field(default_factory=dict)
    response: object = None
    _app: object = None
    _stops: list = field(default_factory=list)

    def set(self, name: str, value: str) -> None:
        if self._app is not None:
            raise RuntimeError("settings must be given before the first request")
        self.env[name] = value

    def add_api_secret(self, secret_id: str, secret: str) -> None:
        secrets = json.loads(self.env.get("AUTH_API_SECRETS_JSON", "[]"))
        secrets.append({"id": secret_id, "secret": secret})
        self.set("AUTH_API_SECRETS_JSON", json.dumps(secrets))
        self.set("AUTH_REQUIRED", "true")

    def on_close(self, stop) -> None:
        """Call `stop()` when the scenario ends (background work it started)."""
        self._stops.append(stop)

    def start_fake(self, name: str, server) -> object:
        server.start()
        self._stops.append(server.stop)
        self.fakes[name] = server
        return server

    @property
    def app(self):
        if self._app is None:
            self._app = self.make_app(**self.env)
            self._app.add_url_rule("/test/whoami", "test_whoami", _whoami)
        return self._app

    @property
    def client(self):
        return self.app.test_client()

    def request(self, method: str, path: str, **kwargs):
        self.response = self.client.open(path, method=method, **kwargs)
        return self.response

    def close(self) -> None:
        for stop in reversed(self._stops):
            stop()


def _whoami():
    """A protected test-only route that tells which tenant the request was authenticated as."""
    from app.security import current_tenant

    return jsonify({"tenant": current_tenant()})
