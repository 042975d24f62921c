"""`SynthesisCache.open_file`: a hit handed out as an open file, verified, never a replaced or removed one."""

import hashlib
import os

import pytest

from app.services.cache import CachedFile, EntryLabel, SynthesisCache
from app.services.tts.audio import Audio
from app.settings import CacheSettings

LABEL = EntryLabel(provider="local", voice_id="en-us", model="espeak-ng")
KEY = "ab" * 32
AUDIO = Audio(b"RIFF" + bytes(range(256)) * 40, "wav", 24_000, 213)


class Clock:
    now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def make_cache(database, tmp_path):
    caches = []

    def build(**settings):
        cache = SynthesisCache(CacheSettings(path=tmp_path / "cache", **settings), database, clock=Clock())
        caches.append(cache)
        return cache

    yield build
    for cache in caches:
        cache.close()


def _stored(cache: SynthesisCache) -> SynthesisCache:
    cache.get_or_synthesize(KEY, LABEL, lambda: AUDIO)
    cache.settle()
    return cache


def _read(opened) -> tuple[bytes, CachedFile]:
    assert opened is not None
    handle, entry = opened
    with handle:
        return handle.read(), entry


def test_a_miss_is_none_and_a_hit_is_the_open_file_with_its_description(make_cache):
    cache = make_cache()
    assert cache.open_file(KEY) is None
    _stored(cache)
    other_process = make_cache()
    for opener in (cache, other_process):  # from this process's memo, and verified from the index
        data, entry = _read(opener.open_file(KEY))
        assert data == AUDIO.data
        assert entry == CachedFile(
            path=entry.path,
            size=len(AUDIO.data),
            checksum=hashlib.sha256(AUDIO.data).hexdigest(),
            created_at=Clock.now,
            audio_format="wav",
            sample_rate=24_000,
            duration_ms=213,
        )
        with open(entry.path, "rb") as handle:
            assert handle.read() == AUDIO.data
    other_process.settle()
    assert cache.stats()["hits"] == 2  # counted as hits, like lookup


def test_a_file_replaced_after_it_was_verified_is_never_served(make_cache):
    cache = _stored(make_cache())
    _, entry = _read(cache.open_file(KEY))
    other = entry.path + ".other"
    with open(other, "wb") as handle:
        handle.write(b"X" * len(AUDIO.data))  # same size: only the checksum tells
    os.replace(other, entry.path)
    assert cache.open_file(KEY) is None
    assert not os.path.exists(entry.path) and cache.stats()["entries"] == 0  # dropped, to be synthesized again


def test_a_file_replaced_by_the_same_bytes_is_verified_again_and_served(make_cache):
    cache = _stored(make_cache())
    _, entry = _read(cache.open_file(KEY))
    copy = entry.path + ".copy"
    with open(copy, "wb") as handle:
        handle.write(AUDIO.data)
    os.replace(copy, entry.path)  # a new inode
    data, _ = _read(cache.open_file(KEY))
    assert data == AUDIO.data


def test_a_removed_file_is_a_miss(make_cache):
    cache = _stored(make_cache())
    _, entry = _read(cache.open_file(KEY))
    os.unlink(entry.path)
    assert cache.open_file(KEY) is None


def test_an_expired_entry_and_a_disabled_cache_give_nothing(make_cache):
    cache = _stored(make_cache(ttl_seconds=60))
    _read(cache.open_file(KEY))
    cache.clock.now += 61
    assert cache.open_file(KEY) is None
    assert _stored(make_cache(enabled=False)).open_file(KEY) is None
