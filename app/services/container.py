"""The domain services of one app, built lazily from settings (each gunicorn worker has its own)."""
from __future__ import annotations

from functools import cached_property

from app.db import Database
from app.settings import Settings


class Services:
    def __init__(self, settings: Settings, database: Database):
        self.settings = settings
        self.database = database

    def close(self) -> None:
        self.database.dispose()
        if "recordings" in self.__dict__:
            self.recordings.close()

    @cached_property
    def recordings(self):
        from app.services.recordings import Recordings

        return Recordings.from_settings(self.settings.recording)
