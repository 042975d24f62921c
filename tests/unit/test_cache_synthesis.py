"""The synthesis cache on SQLite, or PostgreSQL with TEST_DATABASE_URL, without HTTP."""

import logging
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from app.db import Database
from app.services.cache import EntryLabel, SynthesisCache
from app.services.tts.audio import Audio
from app.settings import CacheSettings

LABEL = EntryLabel(provider="local", voice_id="en-us", model="espeak-ng")


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def make_cache(database, tmp_path):
    caches = []

    def build(clock=None, **settings):
        values = {"path": tmp_path / "cache", **settings}
        cache = SynthesisCache(CacheSettings(**values), database, **({"clock": clock} if clock else {}))
        caches.append(cache)
        return cache

    yield build
    for cache in caches:
        cache.close()


class Producer:
    """Counts provider calls; each call returns distinct bytes."""

    def __init__(self, size=100, delay=0.0):
        self.calls = 0
        self.size = size
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self) -> Audio:
        with self._lock:
            self.calls += 1
            marker = self.calls
        time.sleep(self.delay)
        return Audio(bytes([marker % 256]) * self.size, "linear16", 24_000, 2)


def test_a_miss_is_synthesized_and_stored_then_served(make_cache):
    cache, produce = make_cache(), Producer()
    first, cached_first = cache.get_or_synthesize("a" * 64, LABEL, produce)
    second, cached_second = cache.get_or_synthesize("a" * 64, LABEL, produce)
    assert (cached_first, cached_second, produce.calls) == (False, True, 1)
    assert second == first


def test_a_new_process_finds_the_entry_in_the_index(make_cache):
    produce = Producer()
    make_cache().get_or_synthesize("b" * 64, LABEL, produce)
    audio, cached = make_cache().get_or_synthesize("b" * 64, LABEL, produce)
    assert cached and produce.calls == 1 and audio.sample_rate == 24_000


def test_the_file_is_sharded_and_no_temp_file_is_left(make_cache, tmp_path):
    cache = make_cache()
    cache.get_or_synthesize("c0ffee" + "0" * 58, LABEL, Producer())
    cache.settle()  # the file is written after the answer, by the writer thread
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and ".locks" not in p.parts]
    assert [p.relative_to(tmp_path / "cache").as_posix() for p in files] == [f"c0/ff/c0ffee{'0' * 58}.pcm"]


def test_entries_expire_after_the_ttl(make_cache):
    clock, produce = Clock(), Producer()
    cache = make_cache(clock, ttl_seconds=60)
    cache.get_or_synthesize("d" * 64, LABEL, produce)
    clock.now += 59
    assert cache.get_or_synthesize("d" * 64, LABEL, produce)[1] is True
    clock.now += 2
    assert cache.get_or_synthesize("d" * 64, LABEL, produce)[1] is False
    assert produce.calls == 2


def test_a_ttl_of_zero_never_expires(make_cache):
    clock, produce = Clock(), Producer()
    cache = make_cache(clock, ttl_seconds=0)
    cache.get_or_synthesize("e" * 64, LABEL, produce)
    clock.now += 10 * 365 * 86_400
    assert cache.get_or_synthesize("e" * 64, LABEL, produce)[1] is True


def test_the_least_recently_used_entries_are_evicted_over_the_cap(make_cache):
    clock, produce = Clock(), Producer(size=100)
    cache = make_cache(clock, max_bytes=250)
    for key in ("1", "2"):
        cache.get_or_synthesize(key * 64, LABEL, produce)
        clock.now += 10
    cache.get_or_synthesize("1" * 64, LABEL, produce)  # 1 is now more recently used than 2
    clock.now += 10
    cache.get_or_synthesize("3" * 64, LABEL, produce)  # 300 bytes > 250: evict the least recently used
    cache.settle()
    assert cache.lookup("2" * 64) is None
    assert cache.lookup("1" * 64) is not None and cache.lookup("3" * 64) is not None
    assert cache.stats()["bytes"] == 200


def test_a_damaged_file_is_dropped_and_synthesized_again(make_cache, tmp_path):
    produce = Producer()
    cache = make_cache()
    cache.get_or_synthesize("f" * 64, LABEL, produce)
    cache.settle()
    path = next((tmp_path / "cache" / "ff").rglob("*.pcm"))
    path.write_bytes(b"\x07" * 100)  # same size, other bytes
    audio, cached = make_cache().get_or_synthesize("f" * 64, LABEL, produce)
    assert not cached and produce.calls == 2 and audio.data == b"\x02" * 100
    # the process that had the entry in memory checks the file too
    assert cache.get_or_synthesize("f" * 64, LABEL, produce)[0].data == b"\x02" * 100


def test_a_missing_file_is_synthesized_again(make_cache, tmp_path):
    produce = Producer()
    cache = make_cache()
    cache.get_or_synthesize("9" * 64, LABEL, produce)
    cache.settle()
    next((tmp_path / "cache").rglob("*.pcm")).unlink()
    assert cache.get_or_synthesize("9" * 64, LABEL, produce)[1] is False
    assert produce.calls == 2


def test_a_broken_entry_is_dropped_once_by_whoever_finds_it(make_cache, tmp_path):
    produce = Producer()
    host_a, host_b = make_cache(), make_cache()
    host_a.get_or_synthesize("9b" * 32, LABEL, produce)
    host_a.settle()
    found_by_a = host_a.index.read("9b" * 32)
    next((tmp_path / "cache").rglob("*.pcm")).unlink()
    audio, cached = host_b.get_or_synthesize("9b" * 32, LABEL, produce)  # B drops it and synthesizes again
    host_b.settle()
    assert not cached and produce.calls == 2
    host_a._drop_found(found_by_a)  # A found the same broken row: B's new entry is not A's to drop
    assert host_b.get_or_synthesize("9b" * 32, LABEL, produce) == (audio, True)
    assert produce.calls == 2


class GatedWrites:
    """A blob store whose writes wait until the test opens the gate: a slow disk."""

    def __init__(self, store, gate: threading.Event):
        self._store, self._gate = store, gate

    def put_file(self, *args, **kwargs):
        if not self._gate.wait(10):
            raise AssertionError("the write was waited for: the gate only opens after the answer")
        return self._store.put_file(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_a_miss_answers_before_the_slow_write_and_waiters_still_hit(make_cache):
    """The writer thread stores after the answer; an identical request from another process that comes
    once the write is done hits instead of calling the provider again."""
    gate, produce = threading.Event(), Producer()
    cache = make_cache()
    cache.store = GatedWrites(cache.store, gate)
    audio, cached = cache.get_or_synthesize("3a" * 32, LABEL, produce)  # answered while the write waits
    assert not cached
    gate.set()
    cache.settle()
    assert make_cache().get_or_synthesize("3a" * 32, LABEL, produce) == (audio, True)
    assert produce.calls == 1


def test_a_failed_synthesis_stores_nothing(make_cache):
    cache = make_cache()

    def fail():
        raise RuntimeError("provider down")

    with pytest.raises(RuntimeError):
        cache.get_or_synthesize("8" * 64, LABEL, fail)
    assert cache.stats()["entries"] == 0


def test_a_disabled_cache_always_synthesizes_and_stores_nothing(make_cache):
    cache, produce = make_cache(enabled=False), Producer()
    for _ in range(2):
        assert cache.get_or_synthesize("7" * 64, LABEL, produce)[1] is False
    assert produce.calls == 2 and cache.stats()["entries"] == 0


def test_concurrent_identical_misses_in_threads_make_one_call(make_cache):
    cache, produce = make_cache(), Producer(delay=0.2)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_synthesize("6" * 64, LABEL, produce)))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert produce.calls == 1
    assert sorted(cached for _, cached in results) == [False] + [True] * 15
    assert len({audio.data for audio, _ in results}) == 1


def _worker(database_url, cache_path, calls_file, ready):
    database = Database(database_url)
    cache = SynthesisCache(CacheSettings(path=Path(cache_path)), database)

    def produce():
        with open(calls_file, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        time.sleep(0.3)
        return Audio(b"\x01" * 100, "linear16", 24_000, 2)

    ready.wait(60)  # every worker imported and its cache built before the first miss
    threads = [threading.Thread(target=cache.get_or_synthesize, args=("5" * 64, LABEL, produce)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cache.close()
    database.dispose()


def test_concurrent_identical_misses_in_processes_make_one_call(database, database_url, tmp_path):
    calls_file = tmp_path / "calls.txt"
    calls_file.touch()
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(4)
    workers = [
        context.Process(target=_worker, args=(database_url, str(tmp_path / "cache"), str(calls_file), ready))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    assert len(calls_file.read_text().split()) == 1


def test_hits_and_last_use_reach_the_index(make_cache):
    clock, produce = Clock(), Producer()
    cache = make_cache(clock)
    cache.get_or_synthesize("4" * 64, LABEL, produce)
    for _ in range(3):
        clock.now += 5
        cache.get_or_synthesize("4" * 64, LABEL, produce)
    stats = cache.stats()
    assert (stats["entries"], stats["hits"], stats["providers"]["local"]["hits"]) == (1, 3, 3)


def test_clear_by_provider_keeps_the_others(make_cache):
    cache, produce = make_cache(), Producer()
    cache.get_or_synthesize("1" * 64, LABEL, produce)
    cache.get_or_synthesize("2" * 64, EntryLabel("deepgram", "aura-2-thalia-en", "aura-2-thalia-en"), produce)
    assert cache.clear("deepgram") == (1, 100)
    assert list(cache.stats()["providers"]) == ["local"]
    assert cache.clear() == (1, 100)
    assert cache.stats()["entries"] == 0


def test_prune_removes_expired_entries_orphans_and_crash_leftovers(make_cache, tmp_path):
    clock, produce = Clock(), Producer()
    cache = make_cache(clock, ttl_seconds=60)
    cache.get_or_synthesize("1" * 64, LABEL, produce)
    clock.now += 61  # "1" is expired from now on
    cache.get_or_synthesize("2" * 64, LABEL, produce)
    cache.settle()
    shard = tmp_path / "cache" / "ab" / "cd"
    shard.mkdir(parents=True)
    orphan = shard / f"abcd{'0' * 60}.pcm"
    orphan.write_bytes(b"x")
    leftover = shard / f".abcd{'1' * 60}.pcm.123.tmp"
    leftover.write_bytes(b"partial")
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    os.utime(leftover, (old, old))
    next((tmp_path / "cache" / "22").rglob("*.pcm")).unlink()
    report = cache.prune()
    assert (report["expired"], report["missing_files"], report["orphan_files"], report["temp_files"]) == (1, 1, 1, 1)
    assert not orphan.exists() and not leftover.exists()
    assert cache.stats()["entries"] == 0


_HIT_KEYS = [f"{i:064x}" for i in range(1, 201)]
_HIT_ROUNDS = 8


def _hit_worker(database_url, cache_path, barrier, reverse):
    """Hits every key once per round, in this worker's own order, then records the round's hits at the
    same moment as the other worker (the barrier), so their row locks overlap."""
    failures: list[logging.LogRecord] = []
    watcher = logging.Handler(logging.WARNING)
    watcher.emit = failures.append
    logging.getLogger("app.cache").addHandler(watcher)
    database = Database(database_url)
    cache = SynthesisCache(CacheSettings(path=Path(cache_path)), database, clock=lambda: 1_800_000_000.0)

    def must_hit():
        raise AssertionError("every key is stored before the workers start")

    keys = list(reversed(_HIT_KEYS)) if reverse else _HIT_KEYS
    for _ in range(_HIT_ROUNDS):
        for key in keys:
            cache.get_or_synthesize(key, LABEL, must_hit)
        barrier.wait(30)
        cache.flush()
    cache.close()
    database.dispose()
    if failures:  # a flush that failed (a deadlock) is a failure even if a later flush made up for it
        raise SystemExit(f"{len(failures)} failed flushes: {failures[0].getMessage()}")


def test_two_processes_recording_hits_on_the_same_rows_never_deadlock_nor_lose_one(make_cache, database_url, tmp_path):
    cache = make_cache(Clock())
    for key in _HIT_KEYS:
        cache.get_or_synthesize(key, LABEL, Producer())
    cache.settle()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [
        context.Process(target=_hit_worker, args=(database_url, str(tmp_path / "cache"), barrier, reverse))
        for reverse in (False, True)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert cache.stats()["hits"] == 2 * _HIT_ROUNDS * len(_HIT_KEYS)
