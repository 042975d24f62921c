"""VoiceCatalog over the real providers, the HTTP ones against the fake servers."""

import threading

import pytest

from app.errors import UpstreamError
from app.services.tts import VoiceCatalog
from app.services.tts.registry import build_providers
from app.settings import TTSSettings
from tests.fakes.deepgram import FakeDeepgram
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.server import FakeServer


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def fakes():
    deepgram, elevenlabs = FakeDeepgram(api_key="dg"), FakeElevenLabs(api_key="el")
    with FakeServer(deepgram.app) as dg, FakeServer(elevenlabs.app) as el:
        yield (
            deepgram,
            elevenlabs,
            TTSSettings(
                deepgram_api_key="dg",
                deepgram_base_url=dg.url,
                elevenlabs_api_key="el",
                elevenlabs_base_url=el.url,
                max_retries=0,
            ),
        )


@pytest.fixture
def catalog(fakes):
    deepgram, elevenlabs, settings = fakes
    deepgram.calls.clear()
    deepgram.catalog_down = elevenlabs.catalog_down = False
    clock = Clock()
    providers = build_providers(settings)
    voices = VoiceCatalog(providers, ttl_seconds=60, stale_seconds=600, clock=clock)
    voices.clock_ = clock
    voices.deepgram = deepgram
    yield voices
    voices.close()
    for provider in providers.values():
        provider.close()


def test_without_keys_only_the_offline_voices():
    catalog = VoiceCatalog(build_providers(TTSSettings()), ttl_seconds=60, stale_seconds=600)
    assert list(catalog.all()) == ["local"]


def test_every_configured_provider_is_listed(catalog):
    voices = catalog.all()
    assert list(voices) == ["local", "deepgram", "elevenlabs"]
    assert len(voices["deepgram"]) == 3 and len(voices["elevenlabs"]) == 2


def test_a_catalog_is_reused_within_the_ttl_and_fetched_after(catalog):
    catalog.all()
    catalog.clock_.now += 59
    catalog.all()
    assert len(catalog.deepgram.calls) == 1
    catalog.clock_.now += 2
    catalog.all()
    assert len(catalog.deepgram.calls) == 2


def test_a_failing_provider_is_served_stale_within_the_window_then_fails(catalog):
    first = catalog.all()
    catalog.deepgram.catalog_down = True
    catalog.clock_.now += 300
    assert catalog.all()["deepgram"] == first["deepgram"]
    catalog.clock_.now += 301
    with pytest.raises(UpstreamError, match="deepgram"):
        catalog.all()


def test_providers_are_queried_in_parallel(fakes, catalog):
    deepgram, elevenlabs, _ = fakes
    # each fake answers only while the other is being asked too: asked one after the other, both fail
    deepgram.catalog_barrier = elevenlabs.catalog_barrier = threading.Barrier(2)
    try:
        assert set(catalog.all()) >= {"deepgram", "elevenlabs"}
    finally:
        deepgram.catalog_barrier = elevenlabs.catalog_barrier = None
