"""Audio the fake providers send back: a tone whose length follows the text, encoded like the real
provider encodes the format asked for."""

from __future__ import annotations

import io

import numpy as np
import soundfile


def tone(text: str, rate: int, seconds_per_char: float = 0.03) -> np.ndarray:
    seconds = min(max(len(text) * seconds_per_char, 0.2), 30.0)
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 220 * t) * 8000).astype("<i2")


def encode(samples: np.ndarray, rate: int, container: str, subtype: str) -> bytes:
    """container: RAW, WAV, FLAC, MP3, OGG (soundfile's names)."""
    if container == "RAW" and subtype == "PCM_16":
        return samples.tobytes()
    buffer = io.BytesIO()
    soundfile.write(
        buffer, samples, rate, format=container, subtype=subtype, endian="LITTLE" if container == "RAW" else "FILE"
    )
    return buffer.getvalue()
