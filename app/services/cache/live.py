"""In-process flights: the one request of this process writing a key, and the requests following it.

The leader's chunks are kept in memory for as long as its flight lasts, so a follower that joins late
still gets every chunk from the first (one entry's audio at most: what the buffered path holds anyway);
followers are woken by a condition variable the moment a chunk is published, never by polling.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from app.errors import UpstreamError
from app.services.cache.entry import AudioMeta, CachedFile, Clip
from app.services.metrics.instruments import SINGLE_FLIGHT_WAIT_SECONDS

WAITING = "waiting"  # the leader is waiting for the key's lock (other processes)
WRITING = "writing"  # the leader holds the lock and writes: chunks are coming
DONE = "done"  # the leader committed: every chunk is there
FAILED = "failed"  # the leader aborted after it began writing: followers get its error
GONE = "gone"  # the leader left before writing (it found the entry, or gave up waiting): look again


class Flight:
    def __init__(self, key: str, flights: Flights):
        self.key = key
        self._flights = flights
        self._changed = threading.Condition(threading.Lock())
        self.state = WAITING
        self.chunks: list[bytes] = []
        self.size = 0
        self.entry: CachedFile | None = None
        self.meta: AudioMeta | None = None
        self.error: BaseException | None = None

    def decided(self, deadline_at: float) -> str | None:
        """The state once the leader is past waiting for the lock; None if `deadline_at` came first."""
        with self._changed:
            while self.state == WAITING:
                remaining = deadline_at - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
            return self.state

    def start(self) -> None:
        self._set(WRITING)

    def publish(self, chunk: bytes) -> None:
        with self._changed:
            self.chunks.append(chunk)
            self.size += len(chunk)
            self._changed.notify_all()

    def seal(self, meta: AudioMeta) -> None:
        """Every chunk is published (the commit is under way): a follower may take the whole audio."""
        with self._changed:
            self.meta = meta
            self._changed.notify_all()

    def whole(self) -> bytes | None:
        """Every chunk, once the leader sealed or committed the entry; None while it is still writing."""
        with self._changed:
            if self.meta is None or self.state not in (WRITING, DONE):
                return None
            return b"".join(self.chunks)

    def finish(self, entry: CachedFile | None, meta: AudioMeta) -> None:
        with self._changed:
            self.entry, self.meta = entry, meta
        self._set(DONE)

    def fail(self, error: BaseException) -> None:
        with self._changed:
            self.error = error
        self._set(FAILED)

    def leave(self) -> None:
        self._set(GONE)

    def _set(self, state: str) -> None:
        if state != WRITING:
            self._flights.remove(self)  # from now on, a new request looks in the index
        with self._changed:
            self.state = state
            self._changed.notify_all()

    def follow(self, deadline_at: float) -> Iterator[bytes]:
        """Every chunk from the first, blocking for new ones until the leader commits; the leader's
        error if it aborts; UpstreamError if `deadline_at` comes first."""
        position = 0
        while True:
            with self._changed:
                while position >= len(self.chunks) and self.state == WRITING:
                    remaining = deadline_at - time.monotonic()
                    if remaining <= 0:
                        raise UpstreamError(
                            "the synthesis of this prompt by another request did not finish in time",
                            code="provider_timeout",
                        )
                    self._changed.wait(remaining)
                batch = self.chunks[position:]
                position += len(batch)
                state, error = self.state, self.error
            if batch:
                yield from batch
            elif state == FAILED and error is not None:
                raise error
            elif state != WRITING:
                return


class Flights:
    """key -> the flight of this process for it."""

    def __init__(self) -> None:
        self._flights: dict[str, Flight] = {}
        self._guard = threading.Lock()

    def join_or_lead(self, key: str) -> tuple[Flight, bool]:
        """The key's flight, and whether the caller leads it (there was none)."""
        with self._guard:
            flight = self._flights.get(key)
            if flight is not None:
                return flight, False
            flight = self._flights[key] = Flight(key, self)
            return flight, True

    def remove(self, flight: Flight) -> None:
        with self._guard:
            if self._flights.get(flight.key) is flight:
                del self._flights[flight.key]


class LiveFollower:
    """Another request of this process is writing the entry: iterate to get its chunks as they come
    (from the first, however late you joined); after the last one, `entry` is the committed file (None
    if the cache could not store it) and `meta` what the audio is. Raises the leader's error if it aborts."""

    def __init__(
        self, flight: Flight, deadline_at: float, started: float, served: Callable[[str], None] = lambda key: None
    ):
        self._flight = flight
        self._deadline_at = deadline_at
        self._started = started  # when the follower began to wait: its wait is timed to the last chunk
        self._served = served  # called once every chunk was handed out

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._flight.follow(self._deadline_at)
        finally:
            SINGLE_FLIGHT_WAIT_SECONDS.observe(time.monotonic() - self._started)
        self._served(self._flight.key)

    def whole(self) -> Clip | None:
        """The whole audio when the leader already has all of it (it is committing); else None: iterate."""
        data, meta = self._flight.whole(), self._flight.meta
        if data is None or meta is None:
            return None
        SINGLE_FLIGHT_WAIT_SECONDS.observe(time.monotonic() - self._started)
        self._served(self._flight.key)
        return Clip(data, meta.audio_format, meta.sample_rate, meta.duration_ms)

    @property
    def key(self) -> str:
        return self._flight.key

    @property
    def entry(self) -> CachedFile | None:
        return self._flight.entry

    @property
    def meta(self) -> AudioMeta | None:
        return self._flight.meta
