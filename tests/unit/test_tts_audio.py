import io

import numpy as np
import pytest
import soundfile

from app.services.tts import audio


def _pcm(seconds=0.5, rate=22_050) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 300 * t) * 6000).astype("<i2").tobytes()


@pytest.mark.parametrize(
    "name, expected",
    [("PCM", "linear16"), ("opus", "ogg"), ("ulaw", "mulaw"), (" wav ", "wav"), ("mpeg", "mp3"), ("flac", "flac")],
)
def test_format_names_and_aliases(name, expected):
    assert audio.canonical_format(name) == expected


def test_unknown_format_is_refused_with_the_list():
    with pytest.raises(audio.UnsupportedAudio, match="linear16, wav, mp3, ogg, mulaw, flac"):
        audio.canonical_format("aac")


@pytest.mark.parametrize("audio_format, rate", [("wav", 7_999), ("wav", 48_001), ("ogg", 22_050), ("mp3", 23_000)])
def test_rates_that_cannot_be_delivered(audio_format, rate):
    with pytest.raises(audio.UnsupportedAudio, match=str(rate)):
        audio.check_rate(audio_format, rate)


@pytest.mark.parametrize(
    "audio_format, rate",
    [("wav", 8_000), ("wav", 48_000), ("ogg", 24_000), ("mp3", 44_100), ("flac", 11_025), ("mulaw", 16_000)],
)
def test_rates_that_can(audio_format, rate):
    audio.check_rate(audio_format, rate)


@pytest.mark.parametrize(
    "audio_format, rate", [("wav", 16_000), ("flac", 24_000), ("ogg", 48_000), ("mp3", 22_050), ("wav", 22_050)]
)
def test_container_formats_decode_at_the_asked_rate_and_length(audio_format, rate):
    result = audio.from_pcm(_pcm(), 22_050, audio_format, rate)
    samples, actual_rate = soundfile.read(io.BytesIO(result.data), dtype="int16")
    assert actual_rate == rate
    assert abs(samples.shape[0] / rate - 0.5) < 0.08  # codecs pad a little
    assert result.duration_ms == 500
    assert result.content_type == audio.CONTENT_TYPES[audio_format]


def test_linear16_is_raw_pcm_resampled():
    result = audio.from_pcm(_pcm(), 22_050, "linear16", 16_000)
    assert len(result.data) == 2 * 8_000
    assert np.abs(np.frombuffer(result.data, "<i2")).max() > 4_000


def test_mulaw_is_one_byte_per_sample_without_header():
    result = audio.from_pcm(_pcm(), 22_050, "mulaw", 8_000)
    assert len(result.data) == 4_000
    assert not result.data.startswith(b"RIFF")


def test_measured_reads_the_duration_of_provider_audio():
    wav = audio.from_pcm(_pcm(1.0), 22_050, "wav", 24_000).data
    assert audio.measured(wav, "wav", 24_000).duration_ms == 1000
    assert audio.measured(b"\x00" * 16_000, "linear16", 8_000).duration_ms == 1000
    assert audio.measured(b"not audio", "mp3", 22_050).duration_ms == 0


def test_accept_media_types_name_formats():
    assert audio.format_for_media_type("audio/wav") == "wav"
    assert audio.format_for_media_type("Audio/MPEG") == "mp3"
    assert audio.format_for_media_type("audio/*") is None
