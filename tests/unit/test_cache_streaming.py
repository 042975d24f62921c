"""`SynthesisCache.begin`: the streaming write of a miss (leader, followers, commit, abort, crash), on
SQLite, or PostgreSQL with TEST_DATABASE_URL, without HTTP."""

import hashlib
import multiprocessing
import os
import queue
import signal
import statistics
import threading
import time
from pathlib import Path

import pytest

from app.db import Database
from app.errors import UpstreamError
from app.services.cache import AudioMeta, CachedHit, EntryLabel, LiveFollower, PendingEntry, SynthesisCache
from app.settings import CacheSettings

LABEL = EntryLabel(provider="local", voice_id="en-us", model="espeak-ng")
META = AudioMeta("linear16", 24_000, 5)
KEY = "5e" * 32
CHUNKS = [bytes([n]) * (100 + n) for n in range(1, 6)]


@pytest.fixture
def make_cache(database, tmp_path):
    caches = []

    def build(**settings):
        cache = SynthesisCache(CacheSettings(path=tmp_path / "cache", **settings), database)
        caches.append(cache)
        return cache

    yield build
    for cache in caches:
        cache.close()


def _temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*.tmp") if path.is_file()]


class Collector(threading.Thread):
    """Iterates a follower in its own thread: every chunk (and when it came), then the outcome."""

    def __init__(self, follower: LiveFollower):
        super().__init__()
        self.follower = follower
        self.chunks: queue.Queue = queue.Queue()
        self.received: list[bytes] = []
        self.error: BaseException | None = None

    def run(self):
        try:
            for chunk in self.follower:
                self.received.append(chunk)
                self.chunks.put((chunk, time.perf_counter()))
        except BaseException as exc:
            self.error = exc


def test_followers_joining_early_and_late_get_every_chunk_in_order(make_cache):
    cache = make_cache()
    leader = cache.begin(KEY, LABEL)
    assert isinstance(leader, PendingEntry)
    early = cache.begin(KEY, LABEL)
    assert isinstance(early, LiveFollower)
    collector = Collector(early)
    collector.start()
    for chunk in CHUNKS[:3]:
        leader.write(chunk)
    late = cache.begin(KEY, LABEL)  # joins after three chunks: still gets them from the first
    assert isinstance(late, LiveFollower)
    late_collector = Collector(late)
    late_collector.start()
    for chunk in CHUNKS[3:]:
        leader.write(chunk)
    entry = leader.commit(META)
    for thread in (collector, late_collector):
        thread.join(10)
        assert thread.error is None
        assert thread.received == CHUNKS
        assert thread.follower.entry == entry and thread.follower.meta == META
    assert entry is not None and entry.checksum == hashlib.sha256(b"".join(CHUNKS)).hexdigest()


def test_a_follower_gets_each_chunk_as_soon_as_it_is_written(make_cache):
    """Lockstep: the leader writes the next chunk only once the follower has the previous one, so a
    follower that only woke up at the commit (or on a polling tick) is caught."""
    cache = make_cache()
    leader = cache.begin(KEY, LABEL)
    collector = Collector(cache.begin(KEY, LABEL))
    collector.start()
    delays = []
    for number in range(20):
        chunk = bytes([number]) * 64
        written = time.perf_counter()
        leader.write(chunk)
        got, at = collector.chunks.get(timeout=10)
        assert got == chunk
        delays.append(at - written)
    leader.commit(META)
    collector.join(10)
    assert statistics.median(delays) < 0.05  # a condition variable wakes it in well under a millisecond


def test_an_abort_reaches_the_followers_and_nothing_is_stored(make_cache, tmp_path):
    cache = make_cache()
    leader = cache.begin(KEY, LABEL)
    collector = Collector(cache.begin(KEY, LABEL))
    collector.start()
    leader.write(CHUNKS[0])
    assert collector.chunks.get(timeout=10)[0] == CHUNKS[0]
    failure = UpstreamError("local: the voice broke off", code="provider_error")
    leader.abort(failure)
    collector.join(10)
    assert collector.received == [CHUNKS[0]] and collector.error is failure
    assert cache.open_file(KEY) is None and cache.stats()["entries"] == 0
    assert _temp_files(tmp_path / "cache") == [] and cache.store.stat(f"{KEY}.pcm") is None
    again = cache.begin(KEY, LABEL)  # the lock was let go: the next request leads
    assert isinstance(again, PendingEntry)
    again.abort()


def test_leaving_the_block_without_committing_aborts(make_cache, tmp_path):
    cache = make_cache()
    collector = None
    with pytest.raises(ValueError):
        with cache.begin(KEY, LABEL) as leader:
            assert isinstance(leader, PendingEntry)
            collector = Collector(cache.begin(KEY, LABEL))
            collector.start()
            leader.write(CHUNKS[0])
            raise ValueError("the client went away")
    assert collector is not None
    collector.join(10)
    assert isinstance(collector.error, ValueError)
    assert _temp_files(tmp_path / "cache") == [] and cache.stats()["entries"] == 0


def test_a_commit_makes_a_hit_here_and_in_another_process(make_cache):
    cache = make_cache()
    with cache.begin(KEY, LABEL) as leader:
        for chunk in CHUNKS:
            leader.write(chunk)
        entry = leader.commit(META)
    assert entry is not None and entry.size == sum(map(len, CHUNKS))
    for reader in (cache, make_cache()):  # from this process's memo, and from the index
        hit = reader.begin(KEY, LABEL)
        assert isinstance(hit, CachedHit)
        with hit.file as handle:
            assert handle.read() == b"".join(CHUNKS)
        assert (hit.entry.checksum, hit.entry.audio_format, hit.entry.duration_ms) == (entry.checksum, "linear16", 5)
        assert reader.get_or_synthesize(KEY, LABEL, _must_not_produce)[0].data == b"".join(CHUNKS)


def _must_not_produce():
    raise AssertionError("the entry is committed: nobody synthesizes it again")


def test_a_waiter_gives_up_at_its_deadline_with_an_upstream_error(make_cache):
    holder, waiter = make_cache(), make_cache()  # two processes: the waiter queues on the key's lock
    leader = holder.begin(KEY, LABEL)
    assert isinstance(leader, PendingEntry)
    with pytest.raises(UpstreamError) as raised:
        waiter.begin(KEY, LABEL, deadline=0.2)
    assert raised.value.code == "provider_timeout" and "0.2 s" in raised.value.message
    follower = holder.begin(KEY, LABEL, deadline=0.2)  # in this process: it follows, bounded the same way
    with pytest.raises(UpstreamError):
        list(follower)
    leader.write(CHUNKS[0])
    leader.commit(META)
    hit = waiter.begin(KEY, LABEL)
    assert isinstance(hit, CachedHit)
    hit.file.close()


def test_a_disabled_cache_always_leads_and_stores_nothing(make_cache, tmp_path):
    cache = make_cache(enabled=False)
    for _ in range(2):
        with cache.begin(KEY, LABEL) as leader:
            assert isinstance(leader, PendingEntry)
            leader.write(CHUNKS[0])
            assert leader.commit(META) is None
    assert not (tmp_path / "cache").exists() or _temp_files(tmp_path / "cache") == []


def _write_then_hang(database_url, cache_path, wrote):
    """A leader that wrote its first chunk and is then killed in the middle of its write."""
    database = Database(database_url)
    cache = SynthesisCache(CacheSettings(path=Path(cache_path)), database)
    leader = cache.begin(KEY, LABEL)
    assert isinstance(leader, PendingEntry)
    leader.write(CHUNKS[0])
    wrote.set()
    threading.Event().wait(120)  # until SIGKILL


def test_a_crash_mid_write_leaves_no_row_and_prune_removes_the_temp_file(make_cache, database_url, tmp_path):
    context = multiprocessing.get_context("spawn")
    wrote = context.Event()
    writer = context.Process(target=_write_then_hang, args=(database_url, str(tmp_path / "cache"), wrote))
    writer.start()
    assert wrote.wait(60)
    os.kill(writer.pid, signal.SIGKILL)
    writer.join(30)
    cache = make_cache()
    assert cache.index.read(KEY) is None
    (leftover,) = _temp_files(tmp_path / "cache")
    again = cache.begin(KEY, LABEL, deadline=10)  # the dead leader's lock went with its process
    assert isinstance(again, PendingEntry)
    again.abort()
    old = time.time() - 7200
    os.utime(leftover, (old, old))
    assert cache.prune()["temp_files"] == 1
    assert _temp_files(tmp_path / "cache") == []
