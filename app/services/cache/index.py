"""The cache's index in SQL (`cache_entries`): rows, hit counts, totals and the queries of maintenance.

A row means its blob is in the store: it is written after the blob, and removed before it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.db.models import CacheEntry
from app.services.cache.entry import EntryLabel, Row

_TABLE = cast(Table, CacheEntry.__table__)
_ROW_QUERY = select(
    _TABLE.c.key,
    _TABLE.c.provider,
    _TABLE.c.audio_format,
    _TABLE.c.sample_rate,
    _TABLE.c.size_bytes,
    _TABLE.c.duration_ms,
    _TABLE.c.checksum,
    _TABLE.c.expires_at,
    _TABLE.c.created_at,
).where(_TABLE.c.key == bindparam("key"))
_RECORD_HITS = (
    _TABLE.update()
    .where(_TABLE.c.key == bindparam("k"))
    .values(hits=_TABLE.c.hits + bindparam("n"), last_used_at=bindparam("t"))
)
_DELETE_BATCH = 500


class CacheIndex:
    def __init__(self, database: Database):
        self.database = database

    def read(self, key: str) -> Row | None:
        """The row of `key` (raises SQLAlchemyError when the database cannot answer)."""
        # Core, not the ORM: this read is on the path of every miss, and a session costs twice as much.
        with self.database.engine.connect() as connection:
            entry = connection.execute(_ROW_QUERY, {"key": key}).first()
            return _row(entry) if entry is not None else None

    def insert(self, row: Row, label: EntryLabel) -> None:
        entry = CacheEntry(
            key=row.key,
            provider=label.provider,
            voice_id=label.voice_id[:255],
            model=label.model[:255],
            audio_format=row.audio_format,
            sample_rate=row.sample_rate,
            size_bytes=row.size_bytes,
            duration_ms=row.duration_ms,
            checksum=row.checksum,
            created_at=_datetime(row.created_at),
            last_used_at=_datetime(row.created_at),
            hits=0,
            expires_at=_datetime(row.expires_at) if row.expires_at is not None else None,
        )
        try:
            with self.database.session() as session:
                session.add(entry)  # under the key's lock, after a miss: normally no row exists
        except IntegrityError:  # a row appeared meanwhile (e.g. written by an older version): replace it
            with self.database.session() as session:
                session.merge(entry)

    def delete(self, keys: list[str]) -> None:
        with self.database.session() as session:
            for start in range(0, len(keys), _DELETE_BATCH):
                session.execute(delete(CacheEntry).where(CacheEntry.key.in_(keys[start : start + _DELETE_BATCH])))

    def delete_row(self, row: Row) -> bool:
        """Delete `row` if it is still the key's row (same checksum and size); whether it did."""
        with self.database.session() as session:
            result = session.execute(
                delete(CacheEntry).where(
                    CacheEntry.key == row.key,
                    CacheEntry.checksum == row.checksum,
                    CacheEntry.size_bytes == row.size_bytes,
                )
            )
            return bool(getattr(result, "rowcount", 0))

    def record_hits(self, pending: dict[str, tuple[int, float]]) -> None:
        """Add each key's hit count and set its last use, in key order: two workers recording overlapping
        keys then take their row locks in the same order and wait for each other instead of deadlocking
        (on PostgreSQL, arrival order deadlocked and lost a fifth of the counts under load)."""
        with self.database.session() as session:
            session.connection().execute(
                _RECORD_HITS,
                [{"k": key, "n": count, "t": _datetime(used)} for key, (count, used) in sorted(pending.items())],
            )

    # --- maintenance ---------------------------------------------------------------------------------

    def over_cap(self, cap: int) -> list[tuple[str, str, int]]:
        """(key, audio format, size) of the least recently used rows to remove for the total to fit `cap`."""
        with self.database.session() as session:
            total = session.execute(select(func.coalesce(func.sum(CacheEntry.size_bytes), 0))).scalar_one()
            if total <= cap:
                return []
            victims, freed = [], 0
            rows = session.execute(
                select(CacheEntry.key, CacheEntry.audio_format, CacheEntry.size_bytes).order_by(
                    CacheEntry.last_used_at, CacheEntry.created_at
                )
            )
            for key, audio_format, size in rows:
                if total - freed <= cap:
                    break
                victims.append((key, audio_format, size))
                freed += size
        return victims

    def entries(self, provider: str | None = None) -> list[tuple[str, str, int]]:
        """(key, audio format, size) of every row, or one provider's."""
        query = select(CacheEntry.key, CacheEntry.audio_format, CacheEntry.size_bytes)
        if provider:
            query = query.where(CacheEntry.provider == provider)
        with self.database.session() as session:
            return [tuple(row) for row in session.execute(query).all()]  # type: ignore[misc]

    def expiries(self) -> list[tuple[str, str, float | None]]:
        """(key, audio format, expiry in unix seconds or None) of every row."""
        with self.database.session() as session:
            rows = session.execute(select(CacheEntry.key, CacheEntry.audio_format, CacheEntry.expires_at)).all()
        return [
            (key, audio_format, _timestamp(expires) if expires is not None else None)
            for key, audio_format, expires in rows
        ]

    def totals(self) -> tuple[int, int]:
        """(entries, bytes): one cheap query, for metrics."""
        with self.database.session() as session:
            entries, size = session.execute(
                select(func.count(), func.coalesce(func.sum(CacheEntry.size_bytes), 0))
            ).one()
        return int(entries), int(size)

    def summary(self, now: float) -> dict:
        """Per-provider entries, bytes and hits; expired entries; oldest and newest."""
        with self.database.session() as session:
            per_provider = session.execute(
                select(
                    CacheEntry.provider,
                    func.count(),
                    func.coalesce(func.sum(CacheEntry.size_bytes), 0),
                    func.coalesce(func.sum(CacheEntry.hits), 0),
                )
                .group_by(CacheEntry.provider)
                .order_by(CacheEntry.provider)
            ).all()
            expired = session.execute(
                select(func.count()).select_from(CacheEntry).where(CacheEntry.expires_at <= _datetime(now))
            ).scalar_one()
            oldest, newest = session.execute(
                select(func.min(CacheEntry.created_at), func.max(CacheEntry.created_at))
            ).one()
        return {
            "entries": sum(count for _, count, _, _ in per_provider),
            "bytes": int(sum(size for _, _, size, _ in per_provider)),
            "hits": int(sum(hits for _, _, _, hits in per_provider)),
            "expired": expired,
            "oldest": _iso(oldest),
            "newest": _iso(newest),
            "providers": {
                provider: {"entries": count, "bytes": int(size), "hits": int(hits)}
                for provider, count, size, hits in per_provider
            },
        }


def _row(entry: Any) -> Row:  # a Core row with the columns of _ROW_QUERY
    return Row(
        entry.key,
        entry.provider,
        entry.audio_format,
        entry.sample_rate,
        entry.size_bytes,
        entry.duration_ms,
        entry.checksum,
        _timestamp(entry.expires_at) if entry.expires_at is not None else None,
        _timestamp(entry.created_at),
    )


def _datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _timestamp(value: datetime) -> float:
    # SQLite hands back naive datetimes; every value we write is UTC.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
