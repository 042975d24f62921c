"""The domain services of one app, built lazily from settings (each gunicorn worker has its own)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from app.db import Database
from app.settings import Settings

if TYPE_CHECKING:  # each service is imported when first used, so a test or the CLI pays only for what it needs
    from app.services.auth import Authenticator
    from app.services.cache import SynthesisCache
    from app.services.livekit import LiveKit
    from app.services.livekit.recorder import RoomRecorder
    from app.services.recordings import Recordings
    from app.services.sip import Sip
    from app.services.sip.provisioning import ProvisioningStatus
    from app.services.tts import SpeechService, VoiceCatalog


class Services:
    def __init__(self, settings: Settings, database: Database):
        self.settings = settings
        self.database = database

    def close(self) -> None:
        for name in ("sip", "livekit"):  # the SIP forwarder uses LiveKit: stop it first
            if name in self.__dict__:
                self.__dict__[name].close()
        for name in ("voices", "speech", "cache"):  # the cache writes its pending hit counts: before dispose
            if name in self.__dict__:
                self.__dict__[name].close()
        self.database.dispose()
        for name in ("recordings", "authenticator"):
            if name in self.__dict__:
                self.__dict__[name].close()

    @cached_property
    def authenticator(self) -> Authenticator:
        from app.services.auth import Authenticator

        return Authenticator(self.settings.auth)

    @cached_property
    def recordings(self) -> Recordings:
        from app.services.recordings import Recordings

        return Recordings.from_settings(self.settings.recording)

    @cached_property
    def livekit(self) -> LiveKit:
        from app.services.livekit import LiveKit

        return LiveKit(self.settings.livekit, self.database)

    @cached_property
    def room_recorder(self) -> RoomRecorder:
        from app.services.livekit.recorder import RoomRecorder

        return RoomRecorder(self.livekit.rooms, self.settings.recording, self.recordings)

    @cached_property
    def sip(self) -> Sip:
        from app.services.sip import Sip

        return Sip(self.settings, self.database, self.livekit)

    @cached_property
    def sip_provisioning(self) -> ProvisioningStatus | None:
        """The inbound SIP provisioning status the gunicorn master writes; None when not configured."""
        from app.services.sip.provisioning import ProvisioningStatus, inbound_provisioning_enabled

        if not inbound_provisioning_enabled(self.settings.sip, self.settings.livekit):
            return None
        return ProvisioningStatus(self.settings.data_dir)

    @cached_property
    def cache(self) -> SynthesisCache:
        from app.services.cache import SynthesisCache

        # nobody waits for another request's synthesis longer than a synthesis may take
        return SynthesisCache(
            self.settings.cache, self.database, wait_seconds=self.settings.tts.request_timeout_seconds
        )

    @cached_property
    def speech(self) -> SpeechService:
        from app.services.tts import SpeechService
        from app.services.tts.registry import build_providers

        return SpeechService(
            self.settings.tts.default_provider,
            build_providers(self.settings.tts),
            self.cache,
        )

    @cached_property
    def voices(self) -> VoiceCatalog:
        from app.services.tts import VoiceCatalog

        return VoiceCatalog(
            self.speech.providers,
            ttl_seconds=self.settings.tts.voices_ttl_seconds,
            stale_seconds=self.settings.tts.voices_stale_seconds,
        )
