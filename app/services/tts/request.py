"""What a caller asks for (`SpeechOrder`) and the fully resolved request a provider receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pronunciation:
    word: str
    pronunciation: str


@dataclass(frozen=True)
class SpeechOrder:
    """A request as the API or the CLI received it: every field but `text` may be left to defaults."""

    text: str
    provider: str | None = None
    voice_id: str | None = None
    model: str | None = None
    audio_format: str | None = None
    sample_rate: int | None = None
    speaking_rate: float | None = None
    voice_settings: dict[str, Any] | None = None
    pronunciations: tuple[Pronunciation, ...] = ()
    # per-request provider credentials (`tts_config.auth`); empty: the server's own
    auth: dict[str, Any] = field(default_factory=dict, repr=False)
    connect_timeout: float | None = None
    request_timeout: float | None = None


@dataclass(frozen=True)
class SpeechRequest:
    """A request with every default applied and the pronunciations already rewritten into `text`."""

    text: str
    provider: str
    voice_id: str
    model: str
    audio_format: str
    sample_rate: int
    speaking_rate: float = 1.0
    voice_settings: dict[str, Any] = field(default_factory=dict)
    auth: dict[str, Any] = field(default_factory=dict, repr=False)
    connect_timeout: float | None = None
    request_timeout: float | None = None

    @property
    def api_key(self) -> str | None:
        """The request's own API key, for the providers whose credentials are one key."""
        value = self.auth.get("api_key")
        return value if isinstance(value, str) else None


class TextTooLong(ValueError):
    def __init__(self, length: int):
        super().__init__(length)
        self.length = length


def apply_pronunciations(text: str, pronunciations: tuple[Pronunciation, ...], limit: int) -> str:
    """Plain, case-sensitive substring replacement in list order, as the upstream server does.

    Raises TextTooLong as soon as the text is, or one rewrite would make it, longer than `limit`: the
    length is computed before the new text is, since each rewrite can multiply it (nine pronunciations
    `a -> aaaaaaaaaa` turned 40 characters into 400 million)."""
    if len(text) > limit:
        raise TextTooLong(len(text))
    for item in pronunciations:
        if not item.word:
            continue
        length = len(text) + text.count(item.word) * (len(item.pronunciation) - len(item.word))
        if length > limit:
            raise TextTooLong(length)
        text = text.replace(item.word, item.pronunciation)
    return text
