"""Audio formats we deliver, and conversion from 16-bit PCM into each of them.

soundfile's wheel bundles libsndfile with FLAC, Ogg/Opus and LAME, so no system binary is needed; soxr
resamples. Opus only accepts 8/12/16/24/48 kHz and MPEG audio a fixed list of rates, so other rates are
refused for those formats rather than silently changed.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np
import soundfile
import soxr

LINEAR16, WAV, MP3, OGG, MULAW, FLAC = "linear16", "wav", "mp3", "ogg", "mulaw", "flac"
FORMATS = (LINEAR16, WAV, MP3, OGG, MULAW, FLAC)
_ALIASES = {"pcm": LINEAR16, "opus": OGG, "ogg_opus": OGG, "ulaw": MULAW, "mpeg": MP3}

MIN_RATE, MAX_RATE = 8_000, 48_000
_RATES = {
    MP3: (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000),
    OGG: (8_000, 12_000, 16_000, 24_000, 48_000),
}
_DEFAULT_RATES = {MULAW: 8_000, OGG: 48_000}
DEFAULT_FORMAT, DEFAULT_RATE = LINEAR16, 24_000

CONTENT_TYPES = {
    LINEAR16: "audio/pcm",
    WAV: "audio/wav",
    MP3: "audio/mpeg",
    OGG: "audio/ogg",
    MULAW: "audio/basic",
    FLAC: "audio/flac",
}
# Media types a client may name in `Accept` to choose the format when the body does not.
_MEDIA_TYPES = {
    "audio/pcm": LINEAR16,
    "audio/l16": LINEAR16,
    "audio/wav": WAV,
    "audio/wave": WAV,
    "audio/x-wav": WAV,
    "audio/mpeg": MP3,
    "audio/mp3": MP3,
    "audio/ogg": OGG,
    "audio/opus": OGG,
    "audio/basic": MULAW,
    "audio/mulaw": MULAW,
    "audio/x-mulaw": MULAW,
    "audio/flac": FLAC,
    "audio/x-flac": FLAC,
}

_SOUNDFILE_TYPES = {
    WAV: ("WAV", "PCM_16"),
    MP3: ("MP3", "MPEG_LAYER_III"),
    OGG: ("OGG", "OPUS"),
    FLAC: ("FLAC", "PCM_16"),
    MULAW: ("RAW", "ULAW"),
}


class UnsupportedAudio(ValueError):
    """A format or sample rate we cannot deliver; the message says what is allowed."""


class BrokenAudio(ValueError):
    """Bytes that are not the audio they claim to be (empty, truncated, another format or rate)."""


@dataclass(frozen=True)
class Audio:
    data: bytes
    audio_format: str
    sample_rate: int
    duration_ms: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.audio_format]


def canonical_format(name: str) -> str:
    value = name.strip().lower()
    value = _ALIASES.get(value, value)
    if value not in FORMATS:
        raise UnsupportedAudio(f"audio_format '{name}' is not supported (expected one of {', '.join(FORMATS)})")
    return value


def format_for_media_type(media_type: str) -> str | None:
    return _MEDIA_TYPES.get(media_type.strip().lower())


def default_rate(audio_format: str) -> int:
    return _DEFAULT_RATES.get(audio_format, DEFAULT_RATE)


def check_rate(audio_format: str, rate: int) -> None:
    allowed = _RATES.get(audio_format)
    if allowed is not None and rate not in allowed:
        raise UnsupportedAudio(
            f"sample_rate {rate} is not supported for {audio_format} (expected one of {', '.join(map(str, allowed))})"
        )
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UnsupportedAudio(f"sample_rate {rate} is not supported (expected {MIN_RATE} to {MAX_RATE})")


def from_pcm(pcm: bytes, pcm_rate: int, audio_format: str, rate: int) -> Audio:
    """Encode mono s16le PCM at `pcm_rate` as `audio_format` at `rate`."""
    if not pcm or len(pcm) % 2:
        raise BrokenAudio(f"{len(pcm)} bytes is not 16-bit PCM")
    samples = np.frombuffer(pcm, dtype="<i2")
    if pcm_rate != rate and samples.size:
        samples = soxr.resample(samples, pcm_rate, rate, quality="HQ")
    duration_ms = round(samples.size * 1000 / rate)
    if audio_format == LINEAR16:
        return Audio(samples.astype("<i2", copy=False).tobytes(), audio_format, rate, duration_ms)
    container, subtype = _SOUNDFILE_TYPES[audio_format]
    buffer = io.BytesIO()
    soundfile.write(
        buffer, samples, rate, format=container, subtype=subtype, endian="FILE" if container != "RAW" else "LITTLE"
    )
    return Audio(buffer.getvalue(), audio_format, rate, duration_ms)


def as_asked(data: bytes, audio_format: str, rate: int, pcm_rate: int | None) -> Audio:
    """A provider's answer as the asked audio: produced natively (`pcm_rate` None), or converted from the
    raw PCM at `pcm_rate` it was asked for instead."""
    if pcm_rate is None:
        return measured(data, audio_format, rate)
    return from_pcm(data, pcm_rate, audio_format, rate)


def measured(data: bytes, audio_format: str, rate: int) -> Audio:
    """Audio produced natively by a provider, with its duration read from the bytes."""
    if audio_format == LINEAR16:
        frames = len(data) // 2
    elif audio_format == MULAW:
        frames = len(data)
    else:
        try:
            frames = soundfile.info(io.BytesIO(data)).frames
        except (RuntimeError, soundfile.LibsndfileError):
            frames = 0
    return Audio(data, audio_format, rate, round(frames * 1000 / rate))


def to_pcm(data: bytes, audio_format: str) -> tuple[bytes, int]:
    """Decode a container format (wav, flac, ogg, mp3) back to s16le PCM and its rate."""
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=False)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise BrokenAudio(f"undecodable {audio_format}: {exc}") from None
    if samples.ndim > 1:
        samples = samples[:, 0]
    return samples.astype("<i2", copy=False).tobytes(), rate


_MAGIC = {
    MP3: (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xe3", b"\xff\xe2"),
    OGG: (b"OggS",),
    FLAC: (b"fLaC",),
}
_WAV_SIZE_UNKNOWN = (0, 0xFFFFFFFF)  # what streaming encoders write when the length is not known yet


def verify(audio: Audio, audio_format: str, rate: int) -> None:
    """Raise BrokenAudio unless `audio` is non-empty `audio_format` at `rate`, whole as far as its
    container says, and readable where it has a container. Cheap: headers only, no full decode."""
    if (audio.audio_format, audio.sample_rate) != (audio_format, rate):
        raise BrokenAudio(f"{audio.audio_format} at {audio.sample_rate} Hz instead of {audio_format} at {rate} Hz")
    data = audio.data
    if not data:
        raise BrokenAudio("no audio")
    if audio_format == LINEAR16:
        if len(data) % 2:
            raise BrokenAudio(f"{len(data)} bytes is not 16-bit PCM")
    elif audio_format == WAV:
        _verify_wav(data, rate)
    elif audio_format in _MAGIC:
        if not data.startswith(_MAGIC[audio_format]):
            raise BrokenAudio(f"not {audio_format} (starts with {data[:8]!r})")
        try:
            info = soundfile.info(io.BytesIO(data))
        except (RuntimeError, soundfile.LibsndfileError) as exc:
            raise BrokenAudio(f"unreadable {audio_format}: {exc}") from None
        if info.samplerate != rate:
            raise BrokenAudio(f"{audio_format} at {info.samplerate} Hz instead of {rate} Hz")


def head_is_complete(data: bytes, audio_format: str, rate: int) -> bool:
    """Whether the first bytes of a stream of `audio_format` are enough to judge its container (False: wait
    for more); raise BrokenAudio as soon as they show another container, or a WAV of another rate."""
    if audio_format == WAV:
        if len(data) < 12:
            return False
        return _wav_format(data, rate) is not None
    if audio_format in _MAGIC:
        if len(data) < 4:
            return False
        if not data.startswith(_MAGIC[audio_format]):
            raise BrokenAudio(f"not {audio_format} (starts with {data[:8]!r})")
    return True


def _verify_wav(data: bytes, rate: int) -> None:
    found = _wav_format(data, rate)
    if found is None:
        raise BrokenAudio("WAV without a data chunk")
    body, size = found
    arrived = len(data) - body
    if size not in _WAV_SIZE_UNKNOWN and size > arrived:
        raise BrokenAudio(f"WAV header announces {size} bytes of audio, {arrived} arrived")
    if not arrived:
        raise BrokenAudio("WAV without audio")


def _wav_format(data: bytes, rate: int) -> tuple[int, int] | None:
    """Where the audio of a WAV starts and the size its header announces, once the header up to the data
    chunk is in `data` (None before); BrokenAudio if it is not mono 16-bit WAV at `rate`."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise BrokenAudio(f"not a WAV file (starts with {data[:8]!r})")
    position, channels_rate_bits = 12, None
    while position + 8 <= len(data):
        chunk, size = data[position : position + 4], int.from_bytes(data[position + 4 : position + 8], "little")
        body = position + 8
        if chunk == b"fmt " and body + 16 <= len(data):
            _, channels, chunk_rate, _, _, bits = struct.unpack_from("<HHIIHH", data, body)
            channels_rate_bits = (channels, chunk_rate, bits)
        elif chunk == b"data":
            if channels_rate_bits is None:
                raise BrokenAudio("WAV audio before its format chunk")
            if channels_rate_bits != (1, rate, 16):
                raise BrokenAudio(
                    "WAV of {} channel(s) at {} Hz, {} bits instead of mono 16-bit at {} Hz".format(
                        *channels_rate_bits, rate
                    )
                )
            return body, size
        position = body + size + (size & 1)
    return None
