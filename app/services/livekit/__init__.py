"""LiveKit: a synchronous server-API client, tenant-owned rooms and webhook verification (Flask-free)."""

from __future__ import annotations

from app.db import Database
from app.services.livekit.client import LiveKitClient
from app.services.livekit.errors import LiveKitError, LiveKitNotConfigured, LiveKitUnreachable
from app.services.livekit.ownership import RoomOwnership
from app.services.livekit.rooms import TenantRooms
from app.services.livekit.webhook import WebhookVerifier
from app.settings import LiveKitSettings

__all__ = [
    "LiveKit",
    "LiveKitClient",
    "LiveKitError",
    "LiveKitNotConfigured",
    "LiveKitUnreachable",
    "TenantRooms",
    "WebhookVerifier",
]


class LiveKit:
    """Everything LiveKit for one app. `client` is None while LIVEKIT_API_KEY/SECRET are unset; nothing
    here contacts LiveKit before a request needs it, so start-up never depends on LiveKit."""

    def __init__(self, settings: LiveKitSettings, database: Database):
        self.settings = settings
        self.client = (
            LiveKitClient(
                settings.http_url, settings.api_key, settings.api_secret, timeout=settings.request_timeout_seconds
            )
            if settings.api_key and settings.api_secret
            else None
        )
        self.rooms = TenantRooms(settings, self.client, RoomOwnership(database))
        self.webhooks = WebhookVerifier(settings)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
