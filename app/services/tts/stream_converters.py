"""A provider's raw PCM (mono s16le) turned into the asked format as it arrives, chunk by chunk.

Raw PCM, mu-law and WAV can be produced incrementally: each arriving chunk is resampled
(`soxr.ResampleStream`, the same HQ filter as the buffered conversion: the same audio to within the
filter's rounding, of the same length) and encoded at once; without resampling the bytes are the buffered
conversion's. WAV gets a streaming
header: the real data size when the provider announced its length (the output length follows from it),
else 0xFFFFFFFF, what streaming encoders write when the length is not known yet (players and libsndfile
read it as "to the end of the file"). MP3, Ogg/Opus and FLAC are not produced here: libsndfile's encoders
take the whole signal (`audio.from_pcm`), so those conversions buffer.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Iterator

import numpy as np
import soundfile
import soxr

from app.services.tts import audio
from app.services.tts.audio import BrokenAudio

STREAMABLE = (audio.LINEAR16, audio.MULAW, audio.WAV)
_UNKNOWN_SIZE = 0xFFFFFFFF


def converted_frames(frames: int, source_rate: int, rate: int) -> int:
    """How many frames resampling makes of `frames` at `source_rate`: the exact quotient rounded half up.
    soxr's own count (what the buffered conversion gives) is the same but for exact halves, which it
    rounds up or down by ratio (measured on soxr 1.1): one frame at most, at the end."""
    return (2 * frames * rate + source_rate) // (2 * source_rate)


def wav_header(rate: int, data_size: int | None) -> bytes:
    """The 44-byte header libsndfile writes for mono 16-bit PCM, for `data_size` bytes of audio (None: not
    known yet)."""
    size = _UNKNOWN_SIZE if data_size is None else data_size
    riff = _UNKNOWN_SIZE if data_size is None else 36 + data_size
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI", b"RIFF", riff, b"WAVE", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16, b"data", size
    )


def convert_pcm(
    chunks: Iterable[bytes], source_rate: int, audio_format: str, rate: int, source_length: int | None = None
) -> Iterator[bytes]:
    """`chunks` of mono s16le PCM at `source_rate` as `audio_format` (one of STREAMABLE) at `rate`, each
    converted as soon as it arrives. `source_length` (the provider's Content-Length) fixes the output
    length in advance, which a WAV header then announces. Raises BrokenAudio for PCM of an odd length."""
    if audio_format not in STREAMABLE:
        raise ValueError(f"{audio_format} cannot be encoded as a stream")
    resampler = soxr.ResampleStream(source_rate, rate, 1, dtype="int16", quality="HQ") if source_rate != rate else None
    expected = None if source_length is None else converted_frames(source_length // 2, source_rate, rate)
    if audio_format == audio.WAV:
        yield wav_header(rate, None if expected is None else expected * 2)
    carry = b""  # an odd byte: half a sample, completed by the next chunk
    produced = 0
    for chunk in chunks:
        data = carry + chunk
        carry = data[len(data) & ~1 :]
        samples = np.frombuffer(data[: len(data) & ~1], dtype="<i2")
        if resampler is not None:
            samples = resampler.resample_chunk(samples, last=False)
        if expected is not None:
            samples = samples[: max(0, expected - produced)]
        produced += samples.size
        if samples.size:
            yield _encode(samples, audio_format, rate)
    if carry:
        raise BrokenAudio("PCM of an odd length is not 16-bit PCM")
    tail = np.zeros(0, dtype="<i2")
    if resampler is not None:
        tail = resampler.resample_chunk(tail, last=True)
    if expected is not None:  # the length the header announced, to the frame
        tail = np.concatenate([tail, np.zeros(max(0, expected - produced - tail.size), dtype="<i2")])
        tail = tail[: max(0, expected - produced)]
    if tail.size:
        yield _encode(tail, audio_format, rate)


def _encode(samples: np.ndarray, audio_format: str, rate: int) -> bytes:
    if audio_format == audio.MULAW:  # libsndfile's encoder, as the buffered conversion uses it
        buffer = io.BytesIO()
        soundfile.write(buffer, samples, rate, format="RAW", subtype="ULAW", endian="LITTLE")
        return buffer.getvalue()
    return samples.astype("<i2", copy=False).tobytes()
