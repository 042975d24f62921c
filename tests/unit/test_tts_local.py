import threading

import numpy as np
import pytest

from app.errors import BadRequest
from app.services.tts.espeak import SAMPLE_RATE, EspeakEngine
from app.services.tts.local import LocalProvider
from app.services.tts.request import SpeechRequest


def _request(**overrides) -> SpeechRequest:
    values = dict(
        text="Welcome to Sayna",
        provider="local",
        voice_id="en-us",
        model="espeak-ng",
        audio_format="linear16",
        sample_rate=SAMPLE_RATE,
    )
    values.update(overrides)
    return SpeechRequest(**values)


def test_the_offline_voice_speaks():
    result = LocalProvider("en-us").synthesize(_request())
    samples = np.frombuffer(result.data, "<i2").astype(float)
    assert 0.8 < samples.size / SAMPLE_RATE < 2.5
    assert np.sqrt(np.mean(samples**2)) > 1_000
    assert result.duration_ms == round(samples.size * 1000 / SAMPLE_RATE)


def test_a_faster_speaking_rate_gives_shorter_audio():
    provider = LocalProvider("en-us")
    normal = provider.synthesize(_request(text="The quick brown fox jumps over the lazy dog")).duration_ms
    fast = provider.synthesize(_request(text="The quick brown fox jumps over the lazy dog", speaking_rate=2.0))
    assert fast.duration_ms < normal * 0.7


def test_an_unknown_voice_is_a_bad_request():
    with pytest.raises(BadRequest) as caught:
        LocalProvider("en-us").synthesize(_request(voice_id="xx/nobody"))
    assert caught.value.code == "unknown_voice"


def test_pitch_must_be_in_range():
    with pytest.raises(BadRequest, match="pitch"):
        LocalProvider("en-us").synthesize(_request(voice_settings={"pitch": 300}))


def test_the_catalog_lists_language_voices_and_female_variants():
    voices = {v["id"]: v for v in LocalProvider("en-us").list_voices()}
    assert len(voices) > 100
    assert voices["gmw/en-US"]["name"] == "English (America)"
    assert voices["gmw/en-US"]["languages"] == ["en-us", "en"]
    assert voices["gmw/en-US+f3"]["gender"] == "Female"
    for voice in voices.values():
        assert all(isinstance(voice[f], str) for f in ("id", "sample", "name", "accent", "gender", "language"))


def test_concurrent_synthesis_is_serialized_and_correct():
    """libespeak-ng crashed or mixed up audio without the process-wide lock (espeak.py's docstring)."""
    engine = EspeakEngine.instance()
    texts = ["one two three", "a much longer sentence with many more words in it", "hello"]
    expected = {text: len(engine.synthesize(text, "en-us")) for text in texts}
    errors = []

    def work(text):
        for _ in range(8):
            pcm = engine.synthesize(text, "en-us")
            if abs(len(pcm) - expected[text]) > expected[text] * 0.05:
                errors.append((text, len(pcm)))

    threads = [threading.Thread(target=work, args=(texts[i % 3],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
