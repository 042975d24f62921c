"""The one interface every speech provider implements. Adding a provider is one module plus one line in
`registry.PROVIDERS`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from app.errors import ApiError, BadRequest, NotConfigured
from app.services.tts import audio
from app.services.tts.audio import Audio, BrokenAudio
from app.services.tts.audio_stream import AudioStream, unusable
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
    # The keys a request's `tts_config.auth` carries for this provider, all required (upstream's rules).
    auth_fields: tuple[str, ...] = ("api_key",)
    # Why the server's own credentials are missing, in upstream's words, naming our variable.
    missing_server_auth: str = "credentials not configured in server environment"

    @property
    def configured(self) -> bool:
        return True

    def resolve_voice(self, voice_id: str | None, model: str | None) -> tuple[str, str]:
        """The (voice, model) actually used when the caller leaves them out."""
        return voice_id or self.default_voice, model or self.default_model

    def check_auth(self, auth: Mapping[str, Any]) -> None:
        """A request's own credentials are complete and well typed; without any, the server's must be set.
        Messages are upstream's (its tests pin them)."""
        if not auth:
            if not self.configured:
                raise self.missing_credentials()
            return
        unknown = sorted(set(auth) - set(self.auth_fields))
        if unknown:
            raise self.invalid_auth(f"Unsupported auth field(s) for provider {self.slug}: {', '.join(unknown)}")
        for name in self.auth_fields:
            self.check_auth_field(name, auth.get(name))

    def check_auth_field(self, name: str, value: Any) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise self.invalid_auth(f"Auth field '{name}' is required for provider {self.slug}")
        if not isinstance(value, str):
            raise self.invalid_auth(f"Auth field '{name}' must be a string for provider {self.slug}")

    def invalid_auth(self, detail: str) -> ApiError:
        return BadRequest(f"Invalid auth input for provider {self.slug}: {detail}", code="invalid_provider_auth")

    def text_limit(self, model: str) -> int:
        """The most characters one synthesis with `model` accepts."""
        return self.max_text_chars

    def check(self, request: SpeechRequest) -> None:
        """Raise BadRequest for settings this provider cannot honour (before any cache lookup)."""
        limit = self.text_limit(request.model)
        if len(request.text) > limit:
            raise self.text_too_long(len(request.text), limit, request.model)
        if not self.min_speaking_rate <= request.speaking_rate <= self.max_speaking_rate:
            raise BadRequest(
                f"speaking_rate {request.speaking_rate:g} is not supported by {self.slug} "
                f"(expected {self.min_speaking_rate:g} to {self.max_speaking_rate:g})",
                code="unsupported_speaking_rate",
            )

    @abstractmethod
    def synthesize(self, request: SpeechRequest) -> Audio:
        """Audio in exactly `request.audio_format` at `request.sample_rate`."""

    def synthesize_checked(self, request: SpeechRequest) -> Audio:
        """`synthesize`, verified before anyone serves or stores it: whatever a provider (or a proxy in
        front of it) answered that is not the asked audio is that provider's error."""
        try:
            result = self.synthesize(request)
            audio.verify(result, request.audio_format, request.sample_rate)
        except BrokenAudio as exc:
            raise unusable(self.slug, exc) from None
        return result

    def open_stream(self, request: SpeechRequest) -> AudioStream:
        """The audio as the provider delivers it. By default the buffered answer, verified, as one chunk;
        providers that can stream override it."""
        return AudioStream.buffered(self.slug, self.synthesize_checked(request))

    @abstractmethod
    def list_voices(self) -> list[Voice]:
        """The provider's catalog, each voice in our descriptor shape."""

    def close(self) -> None:  # noqa: B027 - optional, nothing to release by default
        pass

    def text_too_long(self, length: int, limit: int, model: str) -> ApiError:
        named = f"{self.slug} ({model})" if limit != self.max_text_chars else self.slug
        return BadRequest(f"text is {length} characters long; {named} accepts at most {limit}", code="text_too_long")

    def missing_credentials(self) -> ApiError:
        return NotConfigured(
            f"Missing server auth for provider {self.slug}: {self.missing_server_auth}", code="provider_not_configured"
        )


def voice(
    id: str, name: str, *, sample: str = "", accent: str = "", gender: str = "", language: str = "", **extra: Any
) -> Voice:
    """A descriptor the SDKs parse: the six fields are always strings, never null."""
    descriptor: Voice = {
        "id": id,
        "sample": sample or "",
        "name": name or id,
        "accent": accent or "Unknown",
        "gender": gender or "Unknown",
        "language": language or "Unknown",
    }
    descriptor.update({key: value for key, value in extra.items() if value})
    return descriptor
