"""SpeechService and cache keys with the offline provider, without HTTP."""

import dataclasses

import pytest

from app.db import Database
from app.db.migrate import upgrade_to_head
from app.errors import BadRequest
from app.services.cache import SynthesisCache
from app.services.tts import Pronunciation, SpeechOrder, SpeechRequest, SpeechService
from app.services.tts.keys import synthesis_key
from app.services.tts.registry import build_providers
from app.settings import CacheSettings, TTSSettings


@pytest.fixture
def speech(database_url, tmp_path):
    database = Database(database_url)
    upgrade_to_head(database, tmp_path / ".migrate.lock")
    cache = SynthesisCache(CacheSettings(path=tmp_path / "cache"), database)
    service = SpeechService("local", build_providers(TTSSettings()), cache)
    yield service
    service.close()
    cache.close()
    database.dispose()


def test_defaults_are_applied(speech):
    _, request = speech.resolve(SpeechOrder(text="Hello"))
    assert (
        request.provider,
        request.voice_id,
        request.model,
        request.audio_format,
        request.sample_rate,
        request.speaking_rate,
    ) == ("local", "en-us", "espeak-ng", "linear16", 24_000, 1.0)
    _, request = speech.resolve(SpeechOrder(text="Hello", audio_format="ulaw"))
    assert (request.audio_format, request.sample_rate) == ("mulaw", 8_000)


def test_pronunciations_rewrite_the_text_in_order_before_the_key(speech):
    order = SpeechOrder(
        text="Call the API at Sayna",
        pronunciations=(
            Pronunciation("API", "A P I"),
            Pronunciation("Sayna", "Say nah"),
            Pronunciation("A P I", "ay pee eye"),
        ),
    )
    _, request = speech.resolve(order)
    assert request.text == "Call the ay pee eye at Say nah"
    result = speech.speak(order)
    assert result.cache_key == synthesis_key(request)


def test_the_second_identical_order_is_a_hit(speech):
    order = SpeechOrder(text="Welcome to Sayna", audio_format="wav")
    first, second = speech.speak(order), speech.speak(order)
    assert (first.cached, second.cached) == (False, True)
    assert first.audio == second.audio and first.cache_key == second.cache_key


@pytest.mark.parametrize(
    "order, code",
    [
        (SpeechOrder(text="  "), "empty_text"),
        (SpeechOrder(text="Hi", provider="acme"), "unsupported_provider"),
        (SpeechOrder(text="Hi", audio_format="aac"), "unsupported_audio_format"),
        (SpeechOrder(text="Hi", audio_format="ogg", sample_rate=44_100), "unsupported_audio_format"),
        (SpeechOrder(text="x" * 5_001), "text_too_long"),
        (SpeechOrder(text="Hi", speaking_rate=3.0), "unsupported_speaking_rate"),
        (
            SpeechOrder(text="Hi", provider="deepgram", speaking_rate=0.5, auth={"api_key": "k"}),
            "unsupported_speaking_rate",
        ),
    ],
)
def test_bad_orders(speech, order, code):
    with pytest.raises(BadRequest) as caught:
        speech.speak(order)
    assert caught.value.code == code


BASE = SpeechRequest(
    text="Hello",
    provider="deepgram",
    voice_id="aura-2-thalia-en",
    model="aura-2-thalia-en",
    audio_format="wav",
    sample_rate=24_000,
)


@pytest.mark.parametrize(
    "change",
    [
        {"text": "Hello!"},
        {"provider": "elevenlabs"},
        {"voice_id": "aura-2-zeus-en"},
        {"model": "aura-2-zeus-en"},
        {"audio_format": "mp3"},
        {"sample_rate": 16_000},
        {"speaking_rate": 1.1},
        {"voice_settings": {"stability": 0.5}},
        {"auth": {"api_key": "tenant-own-key"}},
    ],
)
def test_every_field_that_changes_the_audio_changes_the_key(change):
    assert synthesis_key(dataclasses.replace(BASE, **change)) != synthesis_key(BASE)


def test_timeouts_do_not_change_the_key_and_keys_are_stable():
    assert synthesis_key(dataclasses.replace(BASE, connect_timeout=1, request_timeout=9)) == synthesis_key(BASE)
    settings_a = dataclasses.replace(BASE, voice_settings={"a": 1, "b": 2})
    settings_b = dataclasses.replace(BASE, voice_settings={"b": 2, "a": 1})
    assert synthesis_key(settings_a) == synthesis_key(settings_b)
    assert len(synthesis_key(BASE)) == 64
