"""espeak-ng, loaded from the `espeakng-loader` wheel through ctypes (pip-only, works offline).

Measured facts this module is built around (tests/unit/test_tts_local.py checks the first):
- libespeak-ng keeps all its state in globals and crashed (SIGSEGV, heap corruption) when two threads
  synthesized at once: every call into the library holds `_LOCK`, including voice and rate selection,
  which are global state too.
- SYNCHRONOUS output mode runs the audio callback on the calling thread before `espeak_Synth` returns
  and starts no library thread, so forking gunicorn workers stays safe.
- The compiled-in data path is the wheel builder's CI directory: always pass the wheel's data path, and
  the don't-exit flag, or a bad path makes the library call exit() and kill the server.
"""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass

import espeakng_loader

SAMPLE_RATE = 22_050  # mono signed 16-bit little-endian PCM, returned by espeak_Initialize

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_POS_CHARACTER = 1
_PARAM_RATE, _PARAM_PITCH = 1, 3
_GENDERS = {1: "male", 2: "female"}

_LOCK = threading.Lock()


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class EspeakVoice:
    identifier: str
    name: str
    languages: tuple[str, ...]
    gender: str  # "male", "female" or "" when espeak does not say


class EspeakError(Exception):
    pass


class UnknownVoice(EspeakError):
    pass


class EspeakEngine:
    """The process-wide espeak-ng instance. Use `EspeakEngine.instance()`; never call espeak elsewhere."""

    _instance: EspeakEngine | None = None

    @classmethod
    def instance(cls) -> EspeakEngine:
        with _LOCK:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self):
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), _INITIALIZE_DONT_EXIT
        )
        if rate != SAMPLE_RATE:
            raise EspeakError(f"espeak-ng failed to initialise (returned {rate})")
        self._lib = lib
        self._chunks: list[bytes] = []
        # Kept on the instance for the life of the process: a collected CFUNCTYPE would be a dangling pointer.
        self._callback = _CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        self._voices: tuple[EspeakVoice, ...] | None = None
        self._names: frozenset[str] | None = None
        self._variant_names: frozenset[str] | None = None

    def _collect(self, samples, count, _events) -> int:
        # Trivial on purpose: an exception raised in a ctypes callback is printed and swallowed.
        if samples and count > 0:
            self._chunks.append(ctypes.string_at(samples, count * 2))
        return 0

    def synthesize(self, text: str, voice: str, rate_wpm: int = 175, pitch: int = 50) -> bytes:
        """PCM (22,050 Hz, mono, s16le) for `text` spoken by `voice` (an espeak voice name or identifier)."""
        data = text.replace("\x00", " ").encode("utf-8") + b"\x00"
        buffer = ctypes.create_string_buffer(data, len(data))
        with _LOCK:
            if self._lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
                raise UnknownVoice(voice)
            self._lib.espeak_SetParameter(_PARAM_RATE, max(80, min(450, rate_wpm)), 0)
            self._lib.espeak_SetParameter(_PARAM_PITCH, max(0, min(100, pitch)), 0)
            self._chunks = []
            status = self._lib.espeak_Synth(
                buffer, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None
            )
            pcm, self._chunks = b"".join(self._chunks), []
        if status != 0:
            raise EspeakError(f"espeak_Synth returned {status}")
        return pcm

    def has_voice(self, voice: str) -> bool:
        """Whether `voice` names a voice: an identifier (`gmw/en-US`), a name (`English (America)`) or a
        language tag (`en-us`), optionally with a `+variant` (`gmw/en-US+f3`). espeak itself accepts any
        name and silently falls back to its default voice."""
        base, _, variant = voice.partition("+")
        known = self._known_names()
        return base.lower() in known and (not variant or variant in self._variants())

    def _known_names(self) -> frozenset[str]:
        if self._names is None:
            self._names = frozenset(
                name.lower() for v in self.voices() for name in (v.identifier, v.name, *v.languages)
            )
        return self._names

    def _variants(self) -> frozenset[str]:
        if self._variant_names is None:
            directory = os.path.join(espeakng_loader.get_data_path(), "voices", "!v")
            self._variant_names = frozenset(os.listdir(directory)) if os.path.isdir(directory) else frozenset()
        return self._variant_names

    def voices(self) -> tuple[EspeakVoice, ...]:
        """Every language voice. The list memory belongs to the library: it is copied under the lock."""
        with _LOCK:
            if self._voices is None:
                self._voices = tuple(_read_voices(self._lib.espeak_ListVoices(None)))
            return self._voices


def _read_voices(array) -> list[EspeakVoice]:
    voices, index = [], 0
    while array[index]:
        voice = array[index].contents
        voices.append(
            EspeakVoice(
                identifier=voice.identifier.decode(),
                name=voice.name.decode(),
                languages=_languages(voice.languages),
                gender=_GENDERS.get(voice.gender, ""),
            )
        )
        index += 1
    return voices


def _languages(pointer: int | None) -> tuple[str, ...]:
    """espeak's `languages` is a run of (priority byte, NUL-terminated tag) pairs ended by a zero byte."""
    tags, offset = [], 0
    while pointer:
        priority = ctypes.string_at(pointer + offset, 1)
        if priority == b"\x00":
            break
        tag = ctypes.string_at(pointer + offset + 1)
        tags.append(tag.decode())
        offset += 1 + len(tag) + 1
    return tuple(tags)
