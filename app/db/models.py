"""Tables of our own. Schema changes go through a new Alembic migration in migrations/versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class CacheEntry(Base):
    """Index of one synthesized audio file in the on-disk cache (files live under CACHE_PATH)."""

    __tablename__ = "cache_entries"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    voice_id: Mapped[str] = mapped_column(String(255))
    model: Mapped[str] = mapped_column(String(255), default="")
    audio_format: Mapped[str] = mapped_column(String(32))
    sample_rate: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    checksum: Mapped[str] = mapped_column(String(64))  # sha256 hex of the file's bytes
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    hits: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True, nullable=True)


class SipHook(Base):
    """A SIP webhook route added at run time through /sip/hooks (hooks from configuration are not stored)."""

    __tablename__ = "sip_hooks"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)  # lower-cased, trimmed
    url: Mapped[str] = mapped_column(Text)
    auth_id: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RoomOwner(Base):
    """The tenant owning a LiveKit room name. LiveKit metadata has no compare-and-set, so concurrent
    claims are decided here: the first insert of a room name wins, on SQLite and PostgreSQL alike."""

    __tablename__ = "room_owners"

    room_name: Mapped[str] = mapped_column(Text, primary_key=True)
    auth_id: Mapped[str] = mapped_column(String(255))
    room_sid: Mapped[str] = mapped_column(String(64), default="")  # the LiveKit room instance, once known
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
