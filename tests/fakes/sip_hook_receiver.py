"""A customer's SIP hook endpoint: a real HTTP server that verifies Sayna's signature with the official
SDK's own `WebhookReceiver` (HMAC-SHA256 over `v1:{timestamp}:{event_id}:{body}`) and records what it got."""

from __future__ import annotations

import json
import threading

from flask import Flask, jsonify, request
from sayna_client import WebhookReceiver
from sayna_client.errors import SaynaValidationError


class FakeSipHookReceiver:
    def __init__(self, secret: str):
        self._receiver = WebhookReceiver(secret)
        self.deliveries: list[dict] = []  # {"payload": <verified body as JSON>, "headers": {...}}
        self.rejected: list[str] = []
        self._arrived = threading.Condition()
        self.app = Flask("fake-sip-hook-receiver")
        self.app.add_url_rule("/sip-events", "events", self._events, methods=["POST"])

    def reset(self, secret: str | None = None) -> None:
        """Forget what arrived; from now on verify with `secret` when given."""
        if secret is not None:
            self._receiver = WebhookReceiver(secret)
        with self._arrived:
            self.deliveries.clear()
            self.rejected.clear()

    def _events(self):
        body = request.get_data(as_text=True)
        try:
            self._receiver.receive(dict(request.headers), body)
        except SaynaValidationError as exc:
            with self._arrived:
                self.rejected.append(str(exc))
                self._arrived.notify_all()
            return jsonify({"error": "invalid signature"}), 401
        with self._arrived:
            self.deliveries.append({"payload": json.loads(body), "headers": dict(request.headers)})
            self._arrived.notify_all()
        return jsonify({"received": True})

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[dict]:
        """The deliveries once `count` have arrived (or a rejection), else whatever came within `timeout`."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.deliveries) >= count or self.rejected, timeout=timeout)
            return list(self.deliveries)
