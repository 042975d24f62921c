"""The one interface every speech provider implements. Adding a provider is one module plus one line in
`registry.PROVIDERS`."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from app.errors import ApiError, BadRequest, NotConfigured
from app.services.tts.audio import Audio
from app.services.tts.request import SpeechRequest

Voice = dict[str, Any]  # id, sample, name, accent, gender, language (+ languages, sample_rates, tags)


class SpeechProvider(ABC):
    slug: str = ""
    max_text_chars: int = 5_000
    default_voice: str = ""
    default_model: str = ""
    # speaking_rate bounds the provider accepts (1.0 = normal)
    min_speaking_rate: float = 0.25
    max_speaking_rate: float = 4.0

    @property
    def configured(self) -> bool:
        return True

    def resolve_voice(self, voice_id: str | None, model: str | None) -> tuple[str, str]:
        """The (voice, model) actually used when the caller leaves them out."""
        return voice_id or self.default_voice, model or self.default_model

    def check(self, request: SpeechRequest) -> None:
        """Raise BadRequest for settings this provider cannot honour (before any cache lookup)."""
        if len(request.text) > self.max_text_chars:
            raise BadRequest(f"text is {len(request.text)} characters long; {self.slug} accepts at most "
                             f"{self.max_text_chars}", code="text_too_long")
        if not self.min_speaking_rate <= request.speaking_rate <= self.max_speaking_rate:
            raise BadRequest(f"speaking_rate {request.speaking_rate:g} is not supported by {self.slug} "
                             f"(expected {self.min_speaking_rate:g} to {self.max_speaking_rate:g})",
                             code="unsupported_speaking_rate")

    @abstractmethod
    def synthesize(self, request: SpeechRequest) -> Audio:
        """Audio in exactly `request.audio_format` at `request.sample_rate`."""

    @abstractmethod
    def list_voices(self) -> list[Voice]:
        """The provider's catalog, each voice in our descriptor shape."""

    def close(self) -> None:
        pass

    def missing_credentials(self) -> ApiError:
        return NotConfigured(f"{self.slug}: missing credentials (set the provider's API key)",
                             code="provider_not_configured")


def voice(id: str, name: str, *, sample: str = "", accent: str = "", gender: str = "", language: str = "",
          **extra: Any) -> Voice:
    """A descriptor the SDKs parse: the six fields are always strings, never null."""
    descriptor: Voice = {
        "id": id, "sample": sample or "", "name": name or id, "accent": accent or "Unknown",
        "gender": gender or "Unknown", "language": language or "Unknown",
    }
    descriptor.update({key: value for key, value in extra.items() if value})
    return descriptor
