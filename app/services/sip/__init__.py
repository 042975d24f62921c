"""SIP through LiveKit: outbound calls, transfers, webhook routes per SIP host and forwarding of
inbound-call events to them (Flask-free)."""

from __future__ import annotations

from app.db import Database
from app.services.livekit import LiveKit
from app.services.sip.calls import SipCalls, SipOverrides
from app.services.sip.forwarder import SipEventForwarder
from app.services.sip.hooks import SipHookRegistry
from app.settings import Settings

__all__ = ["Sip", "SipCalls", "SipEventForwarder", "SipHookRegistry", "SipOverrides"]


class Sip:
    def __init__(self, settings: Settings, database: Database, livekit: LiveKit):
        self.hooks = SipHookRegistry(settings.sip, database, auth_required=settings.auth.required)
        self.calls = SipCalls(settings.sip, livekit.rooms)
        self.forwarder = SipEventForwarder(settings.sip, self.hooks, livekit.rooms)

    def close(self) -> None:
        self.forwarder.close()
