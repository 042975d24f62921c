"""The synthesis cache on S3 (moto's server over HTTP, as production speaks to S3) with each "host" its own
CACHE_PATH: the bounded local copy, checksums, missing blobs, an unreachable store, orphans, and
maintenance from any host. SQLite, or PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from app.services.cache import EntryLabel, SynthesisCache
from app.services.cache.blobs import BlobStoreUnavailable
from app.services.cache.entry import blob_name
from app.services.cache.local_copies import LocalCopies
from app.services.cache.s3 import S3Store
from app.services.tts.audio import Audio
from app.settings import Settings
from tests.fakes.s3 import SECRET_KEY
from tests.fakes.server import FakeServer, unused_port_url

LABEL = EntryLabel(provider="local", voice_id="en-us", model="espeak-ng")
OTHER = EntryLabel(provider="deepgram", voice_id="aura-asteria-en", model="aura")


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


class Producer:
    """Counts calls; each call gives other bytes (so a wrong entry cannot pass for the right one)."""

    def __init__(self, size=2000):
        self.calls, self.size = 0, size

    def __call__(self) -> Audio:
        self.calls += 1
        return Audio(bytes([self.calls % 256]) * self.size, "linear16", 24_000, 40)


@pytest.fixture
def bucket(s3_server):
    return s3_server.new_bucket()


@pytest.fixture
def make_host(database, tmp_path, s3_server, bucket):
    """A cache as one host of a fleet has it: the shared index and bucket, its own CACHE_PATH."""
    caches = []

    def build(name="a", clock=None, endpoint=None, **settings):
        env = {**s3_server.cache_env(bucket, endpoint=endpoint), "CACHE_PATH": str(tmp_path / f"host-{name}")}
        cache_settings = replace(Settings.from_env(env).cache, **settings)
        cache = SynthesisCache(cache_settings, database, **({"clock": clock} if clock else {}))
        caches.append(cache)
        return cache

    yield build
    for cache in caches:
        cache.close()


def _key(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def _stored(cache: SynthesisCache, key: str, produce, label=LABEL):
    audio, cached = cache.get_or_synthesize(key, label, produce)
    cache.settle()
    return audio, cached


def _gets(s3_server, bucket, since: int = 0) -> list[str]:
    """Object GETs the server received for `bucket` since request number `since` (moto logs no query string)."""
    return [path for method, path in s3_server.requests[since:] if method == "GET" and path.startswith(f"/{bucket}/")]


def _read(opened) -> bytes:
    assert opened is not None
    handle, _ = opened
    with handle:
        return handle.read()


def test_a_blob_is_put_in_the_bucket_under_the_prefix_and_kept_as_a_local_copy(make_host, s3_server, bucket, tmp_path):
    cache, produce, key = make_host(), Producer(), _key(1)
    audio, _ = _stored(cache, key, produce)
    assert s3_server.keys(bucket) == [f"cache/{key}.pcm"]
    assert s3_server.get(bucket, f"cache/{key}.pcm") == audio.data
    local = tmp_path / "host-a" / key[:2] / key[2:4] / f"{key}.pcm"
    assert local.read_bytes() == audio.data
    # a hit of the writing host: from its copy, sent with sendfile; S3 is not asked
    since = len(s3_server.requests)
    for host in (cache, make_host("a")):  # from the memo, and from the index in a new process
        handle, entry = host.open_file(key)
        with handle:
            assert entry.path == str(local) and os.path.samefile(handle.name, local) and handle.read() == audio.data
    assert _gets(s3_server, bucket, since) == []


def test_an_entry_synthesized_on_one_host_is_a_hit_on_another_fetched_from_s3_once(make_host, s3_server, bucket):
    a, c, produce, key = make_host("a"), make_host("c"), Producer(), _key(2)
    audio, _ = _stored(a, key, produce)
    since = len(s3_server.requests)
    for _ in range(3):
        assert _read(c.open_file(key)) == audio.data
        assert c.get_or_synthesize(key, LABEL, produce) == (audio, True)
    assert produce.calls == 1
    assert _gets(s3_server, bucket, since) == [f"/{bucket}/cache/{key}.pcm"]  # then host c's own copy serves it


def test_a_missing_local_copy_is_fetched_again_and_never_drops_the_row(make_host, tmp_path):
    cache, produce, key = make_host(), Producer(), _key(3)
    audio, _ = _stored(cache, key, produce)
    local = tmp_path / "host-a" / key[:2] / key[2:4] / f"{key}.pcm"
    local.unlink()
    assert _read(make_host("a").open_file(key)) == audio.data  # a new process: from the index
    assert local.read_bytes() == audio.data
    local.unlink()
    assert cache.get_or_synthesize(key, LABEL, produce) == (audio, True)  # this process: its memo noticed
    assert produce.calls == 1 and cache.stats()["entries"] == 1


def test_a_damaged_local_copy_is_not_served_and_fetched_again(make_host, tmp_path):
    cache, produce, key = make_host(), Producer(), _key(4)
    audio, _ = _stored(cache, key, produce)
    local = tmp_path / "host-a" / key[:2] / key[2:4] / f"{key}.pcm"
    local.write_bytes(b"\x07" * len(audio.data))  # same size, other bytes
    for host in (make_host("a"), cache):  # a new process (from the index), and the one with it in memory
        assert _read(host.open_file(key)) == audio.data
        local.write_bytes(b"\x07" * len(audio.data))
        assert host.get_or_synthesize(key, LABEL, produce) == (audio, True)
        local.write_bytes(b"\x07" * len(audio.data))
    assert produce.calls == 1 and cache.stats()["entries"] == 1


def test_a_damaged_blob_in_s3_is_not_served_the_row_is_dropped_and_synthesized_again(make_host, s3_server, bucket):
    a, c, produce, key = make_host("a"), make_host("c"), Producer(), _key(5)
    _stored(a, key, produce)
    s3_server.client.put_object(Bucket=bucket, Key=f"cache/{key}.pcm", Body=b"\x07" * 2000)
    assert c.open_file(key) is None  # host c has no copy: it downloads the damaged blob and refuses it
    assert c.stats()["entries"] == 0 and s3_server.keys(bucket) == []
    audio, cached = _stored(c, key, produce)
    assert (cached, produce.calls, audio.data) == (False, 2, b"\x02" * 2000)


def test_a_blob_gone_from_s3_drops_its_row_once_whoever_finds_it(make_host, s3_server, bucket, caplog):
    a, b, c, produce, key = make_host("a"), make_host("b"), make_host("c"), Producer(), _key(6)
    _stored(a, key, produce)
    s3_server.client.delete_object(Bucket=bucket, Key=f"cache/{key}.pcm")
    row = b.index.read(key)
    with caplog.at_level(logging.INFO, logger="app.cache"):
        assert b.open_file(key) is None and c.lookup(key) is None
        assert b.index.delete_row(row) is False  # b's drop was the one; the same row cannot go twice
    assert [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()] == [
        f"cache entry {key} dropped: file missing"
    ]
    assert a.stats()["entries"] == 0


def test_a_finder_holding_an_older_row_does_not_drop_the_entry_written_again_meanwhile(make_host):
    a, b, produce, key = make_host("a"), make_host("b"), Producer(), _key(7)
    _stored(a, key, produce)
    stale = b.index.read(key)
    a.clear()
    audio, _ = _stored(a, key, produce)  # written again: other bytes, another checksum
    assert b.index.delete_row(stale) is False
    assert b.get_or_synthesize(key, LABEL, produce) == (audio, True) and produce.calls == 2


def test_an_unreachable_store_makes_hits_misses_and_keeps_the_rows(make_host, s3_server, bucket, caplog):
    a, produce, key = make_host("a"), Producer(), _key(8)
    _stored(a, key, produce)
    down = make_host("b", endpoint=unused_port_url())
    with caplog.at_level(logging.WARNING, logger="app.cache"):
        assert down.open_file(key) is None
        audio, cached = down.get_or_synthesize(key, LABEL, produce)  # served, its write fails quietly
        down.settle()
    assert (cached, produce.calls) == (False, 2) and audio.data == b"\x02" * 2000
    assert a.index.read(key) is not None and a.stats()["entries"] == 1  # the row stays
    assert any("unavailable" in r.getMessage() or "could not store" in r.getMessage() for r in caplog.records)
    assert SECRET_KEY not in caplog.text


def test_after_s3_could_not_be_reached_requests_do_not_wait_for_it_again_at_once(make_host):
    store = make_host(endpoint=unused_port_url()).store
    assert isinstance(store, S3Store)
    with pytest.raises(BlobStoreUnavailable, match="GET"):
        store.open("ab" * 32 + ".pcm")
    with pytest.raises(BlobStoreUnavailable, match="a moment ago"):
        store.open("ab" * 32 + ".pcm")


def test_a_store_that_refuses_keeps_the_rows(make_host, s3_server, bucket):
    from tests.fakes.s3 import refusing_s3_app

    a, produce, key = make_host("a"), Producer(), _key(9)
    _stored(a, key, produce)
    with FakeServer(refusing_s3_app) as refusing:
        assert make_host("b", endpoint=refusing.url).open_file(key) is None
    assert a.index.read(key) is not None


def test_the_local_copy_stays_within_its_bound_least_recently_used_first(tmp_path):
    copies = LocalCopies(tmp_path / "copies", max_bytes=10_000)
    names = [f"{_key(n)}.pcm" for n in range(30)]
    for n, name in enumerate(names):
        copies.write(name, bytes([n]) * 1000)
        if n >= 1:
            handle = copies.open(names[0])  # the first copy stays in use
            assert handle is not None
            handle.close()
        os.utime(copies.path(name), ns=(n * 10**9, n * 10**9))  # older writes last used longer ago
    assert copies.size() <= 10_000 + 10_000 // 16 + 1000  # a scan every sixteenth of the bound written
    present = [name for name in names if Path(copies.path(name)).exists()]
    assert names[0] in present and names[-1] in present
    assert names[1] not in present  # the least recently used went first
    copies.trim()
    assert copies.size() <= 10_000


def test_a_host_serves_more_entries_than_its_local_bound_by_fetching_them_again(make_host, s3_server, bucket, tmp_path):
    cache, produce = make_host(local_max_bytes=8_000), Producer(size=2000)
    keys = [_key(100 + n) for n in range(10)]
    written = [_stored(cache, key, produce)[0] for key in keys]
    assert LocalCopies(tmp_path / "host-a", 8_000).size() <= 8_000
    for key, audio in zip(keys, written, strict=True):
        assert _read(make_host("a", local_max_bytes=8_000).open_file(key)) == audio.data
    assert produce.calls == 10 and cache.stats()["entries"] == 10


def test_prune_removes_orphan_blobs_only_after_the_grace_period(make_host, s3_server, bucket):
    clock = Clock()
    cache = make_host(clock=clock, orphan_grace_seconds=300)
    key = _key(10)
    _stored(cache, key, Producer())
    orphan = f"cache/{_key(11)}.pcm"  # a host killed between the PUT and its row
    s3_server.client.put_object(Bucket=bucket, Key=orphan, Body=b"\x01" * 10)
    foreign = ["recordings/room-1/audio.ogg", "cache/nested/x.pcm", "cached/y.pcm"]
    for other in foreign:
        s3_server.client.put_object(Bucket=bucket, Key=other, Body=b"x")
    assert cache.prune()["orphan_files"] == 0
    # past the grace period after the orphan's write, by the store's clock (not ours: a slow machine may take
    # seconds between the two)
    clock.now = s3_server.client.head_object(Bucket=bucket, Key=orphan)["LastModified"].timestamp() + 301
    report = cache.prune()
    assert (report["orphan_files"], report["missing_files"], report["expired"]) == (1, 0, 0)
    assert s3_server.keys(bucket) == sorted([*foreign, f"cache/{key}.pcm"])


def test_prune_drops_rows_whose_blob_is_gone_from_any_host(make_host, s3_server, bucket):
    a, b, produce = make_host("a"), make_host("b"), Producer()
    kept, lost = _key(12), _key(13)
    _stored(a, kept, produce)
    _stored(a, lost, produce)
    s3_server.client.delete_object(Bucket=bucket, Key=f"cache/{lost}.pcm")
    assert b.prune()["missing_files"] == 1
    assert b.index.read(kept) is not None and b.index.read(lost) is None


def test_clear_eviction_and_stats_act_on_the_shared_store_from_any_host(make_host, s3_server, bucket, tmp_path):
    clock = Clock()
    a, b = make_host("a", clock=clock, max_bytes=0), make_host("b", clock=clock, max_bytes=0)
    produce = Producer(size=2000)
    local, deepgram = [_key(20), _key(21)], [_key(22)]
    for key in local:
        _stored(a, key, produce)
        clock.now += 10
    _stored(a, deepgram[0], produce, label=OTHER)
    stats = b.stats()
    assert (stats["backend"], stats["store"], stats["entries"]) == ("s3", f"s3://{bucket}/cache/", 3)
    assert stats["local_copy"] == {"bytes": 0, "max_bytes": 1 << 30}  # host b has fetched nothing yet
    assert b.clear("deepgram") == (1, 2000)
    assert s3_server.keys(bucket) == sorted(f"cache/{key}.pcm" for key in local)
    b.maintenance.settings = replace(b.settings, max_bytes=2_000)
    assert b.enforce_cap() == (1, 2000)  # the least recently used, synthesized on host a
    assert s3_server.keys(bucket) == [f"cache/{local[1]}.pcm"]
    assert b.clear() == (1, 2000) and s3_server.keys(bucket) == []


def test_another_hosts_clear_is_seen_within_the_memo_period(make_host):
    a, b, produce, key = make_host("a"), make_host("b"), Producer(), _key(30)
    _stored(a, key, produce)
    clock = [0.0]
    a.memo.clock = lambda: clock[0]
    a.memo.pop(key)
    assert a.lookup(key) is not None  # verified now, kept in a's memo
    b.clear()
    clock[0] += a.memo.max_age_seconds - 0.1
    assert a.lookup(key) is not None  # still trusted
    clock[0] += 0.2
    assert a.lookup(key) is None and a.open_file(key) is None


def test_an_app_with_cache_backend_s3_uses_the_bucket(make_app, s3_server, bucket):
    app = make_app(**s3_server.cache_env(bucket))
    services = app.extensions["services"]
    assert isinstance(services.cache.store, S3Store)
    response = app.test_client().post("/speak", json={"text": "Hello from the bucket"})
    assert response.status_code == 200
    services.cache.settle()
    (key,) = s3_server.keys(bucket)
    entry = services.cache.index.read(key.removeprefix("cache/").split(".")[0])
    assert entry is not None and key == f"cache/{blob_name(entry.key, entry.audio_format)}"


def test_an_unusable_local_directory_makes_hits_misses_and_keeps_the_rows(make_host, tmp_path):
    import shutil

    a, produce, key = make_host("a"), Producer(), _key(40)
    _stored(a, key, produce)
    b = make_host("b")
    shutil.rmtree(tmp_path / "host-b", ignore_errors=True)
    (tmp_path / "host-b").write_text("a file where host b's cache directory should be")
    assert b.open_file(key) is None and b.lookup(key) is None
    assert a.index.read(key) is not None
