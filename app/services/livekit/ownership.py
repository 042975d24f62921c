"""Who owns a room name, decided by the database.

LiveKit room metadata has no compare-and-set: two tenants claiming one unowned room at once could both
write their `auth_id` and both believe they won. The `room_owners` table has one row per room name and
the first insert wins atomically (its primary key), on SQLite and PostgreSQL; every later claimant reads
the winner. The metadata `auth_id` is still written afterwards, for compatibility with readers of it.

A row lives as long as its LiveKit room: when LiveKit reports the room finished (webhook `room_finished`),
the name is released and any tenant may claim it again, as with upstream's metadata."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.db import Database
from app.db.models import RoomOwner
from app.errors import ApiError


class OwnershipStoreFailed(ApiError):
    status, code, message = 500, "room_ownership_failed", "Failed to record the room's owner"


class RoomOwnership:
    def __init__(self, database: Database):
        self.database = database

    def claim(self, room_name: str, tenant: str, room_sid: str = "") -> tuple[str, str]:
        """The room's owner after this claim, and the room instance recorded with it: `tenant` when it
        was first, else whoever was."""
        for _ in range(3):  # the winner's row may be released between our insert and our read
            try:
                with self.database.session() as session:
                    session.add(
                        RoomOwner(room_name=room_name, auth_id=tenant, room_sid=room_sid, claimed_at=datetime.now(UTC))
                    )
                return tenant, room_sid
            except IntegrityError:
                pass  # someone else holds the name: read who
            except SQLAlchemyError:
                raise OwnershipStoreFailed() from None
            recorded = self._recorded(room_name)
            if recorded is not None:
                return recorded
        raise OwnershipStoreFailed()

    def owner(self, room_name: str) -> str | None:
        recorded = self._recorded(room_name)
        return recorded[0] if recorded is not None else None

    def _recorded(self, room_name: str) -> tuple[str, str] | None:
        try:
            with self.database.session() as session:
                row = session.execute(
                    select(RoomOwner.auth_id, RoomOwner.room_sid).where(RoomOwner.room_name == room_name)
                ).first()
        except SQLAlchemyError:
            raise OwnershipStoreFailed() from None
        return (row.auth_id, row.room_sid) if row is not None else None

    def remember_instance(self, room_name: str, tenant: str, room_sid: str) -> None:
        """Note which LiveKit room instance the owner's claim is about (so an old instance's
        `room_finished` does not release a newer one)."""
        try:
            with self.database.session() as session:
                session.execute(
                    update(RoomOwner)
                    .where(RoomOwner.room_name == room_name, RoomOwner.auth_id == tenant)
                    .values(room_sid=room_sid)
                )
        except SQLAlchemyError:
            raise OwnershipStoreFailed() from None

    def release(self, room_name: str, room_sid: str) -> bool:
        """Forget the owner of a finished room instance; True when a row was removed."""
        try:
            with self.database.session() as session:
                result = session.execute(
                    delete(RoomOwner).where(RoomOwner.room_name == room_name, RoomOwner.room_sid.in_([room_sid, ""]))
                )
                return bool(cast(CursorResult, result).rowcount)  # a DELETE's result is a CursorResult
        except SQLAlchemyError:
            raise OwnershipStoreFailed() from None
