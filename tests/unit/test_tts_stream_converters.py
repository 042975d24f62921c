"""stream_converters against the buffered conversion (`audio.from_pcm`): the same bytes when nothing is
resampled, whatever the chunking; resampled as a stream, the same length (to the frame) and the same
samples to within the filter's rounding, and always audio that passes `audio.verify`."""

import numpy as np
import pytest
import soxr

from app.services.tts import audio
from app.services.tts.audio import BrokenAudio
from app.services.tts.stream_converters import convert_pcm, converted_frames, wav_header

PCM_24K = (np.sin(np.arange(24_011) / 10) * 8000).astype("<i2").tobytes()  # an odd number of frames


def _pieces(data: bytes, size: int) -> list[bytes]:
    """Network-like chunks: `size` bytes each, so an odd size splits samples across chunks."""
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("audio_format", ["linear16", "mulaw", "wav"])
@pytest.mark.parametrize("size", [1, 777, 4096, 1 << 20])
def test_without_resampling_the_stream_is_the_buffered_conversion_byte_for_byte(audio_format, size):
    buffered = audio.from_pcm(PCM_24K, 24_000, audio_format, 24_000).data
    streamed = b"".join(convert_pcm(_pieces(PCM_24K, size), 24_000, audio_format, 24_000, len(PCM_24K)))
    assert streamed == buffered


def test_a_wav_of_unknown_length_announces_the_streaming_size_and_carries_the_same_audio():
    buffered = audio.from_pcm(PCM_24K, 24_000, "wav", 24_000).data
    streamed = b"".join(convert_pcm(_pieces(PCM_24K, 4096), 24_000, "wav", 24_000))
    assert streamed[:4] == b"RIFF" and streamed[4:8] == b"\xff\xff\xff\xff" and streamed[40:44] == b"\xff\xff\xff\xff"
    assert streamed[44:] == buffered[44:]
    result = audio.measured(streamed, "wav", 24_000)
    audio.verify(result, "wav", 24_000)
    assert result.duration_ms == audio.measured(buffered, "wav", 24_000).duration_ms


@pytest.mark.parametrize("audio_format", ["linear16", "mulaw", "wav"])
@pytest.mark.parametrize("source_rate, rate", [(24_000, 22_050), (16_000, 8_000), (24_000, 44_100), (24_000, 11_025)])
@pytest.mark.parametrize("announced", [True, False])
def test_resampled_as_a_stream_the_audio_has_the_buffered_length_and_samples(
    audio_format, source_rate, rate, announced
):
    """Not byte-identical (the stream's filter runs chunk by chunk): the same length to the frame, each
    sample within a few units of 32768, and verified audio."""
    pcm = PCM_24K if source_rate == 24_000 else PCM_24K[: 16_001 * 2]
    buffered = audio.from_pcm(pcm, source_rate, audio_format, rate)
    chunks = convert_pcm(_pieces(pcm, 1001), source_rate, audio_format, rate, len(pcm) if announced else None)
    streamed = b"".join(chunks)
    frame = 1 if audio_format == "mulaw" else 2
    assert abs(len(streamed) - len(buffered.data)) <= frame
    result = audio.measured(streamed, audio_format, rate)
    audio.verify(result, audio_format, rate)
    assert abs(result.duration_ms - buffered.duration_ms) <= 1
    if audio_format == "linear16":
        ours, theirs = np.frombuffer(streamed, "<i2"), np.frombuffer(buffered.data, "<i2")
        common = min(ours.size, theirs.size)
        assert np.abs(ours[:common].astype(int) - theirs[:common]).max() <= 4
    if audio_format == "wav" and announced:  # the header announces exactly what follows it
        assert int.from_bytes(streamed[40:44], "little") == len(streamed) - 44


def test_each_chunk_is_converted_as_soon_as_it_arrives():
    pulled = []

    def arriving():
        for piece in _pieces(PCM_24K, 8192):
            pulled.append(len(piece))
            yield piece

    stream = convert_pcm(arriving(), 24_000, "linear16", 16_000)
    first = next(stream)
    assert first and len(pulled) == 1  # converted from the first network chunk alone


def test_pcm_of_an_odd_length_is_broken_audio():
    with pytest.raises(BrokenAudio, match="odd length"):
        b"".join(convert_pcm(_pieces(PCM_24K + b"\x01", 1000), 24_000, "linear16", 16_000))


def test_formats_that_need_the_whole_signal_are_refused():
    with pytest.raises(ValueError, match="mp3 cannot be encoded as a stream"):
        next(convert_pcm([PCM_24K], 24_000, "mp3", 24_000))


def test_the_wav_header_is_libsndfiles():
    buffered = audio.from_pcm(PCM_24K, 24_000, "wav", 24_000).data
    assert wav_header(24_000, len(PCM_24K)) == buffered[:44]


@pytest.mark.parametrize("source_rate, rate", [(24_000, 11_025), (24_000, 22_050), (16_000, 8_000), (48_000, 44_100)])
def test_the_announced_length_is_soxrs_to_the_frame(source_rate, rate):
    for frames in range(1, 3000, 37):
        soxr_frames = len(soxr.resample(np.zeros(frames, dtype="<i2"), source_rate, rate, quality="HQ"))
        assert abs(converted_frames(frames, source_rate, rate) - soxr_frames) <= 1
