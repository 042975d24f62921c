"""Provider slug → implementation. Adding a provider: one new module and one line here."""

from __future__ import annotations

from app.services.tts.azure import AzureProvider
from app.services.tts.cartesia import CartesiaProvider
from app.services.tts.deepgram import DeepgramProvider
from app.services.tts.elevenlabs import ElevenLabsProvider
from app.services.tts.google import GoogleProvider
from app.services.tts.local import LocalProvider
from app.services.tts.openai import OpenAIProvider
from app.services.tts.provider import SpeechProvider
from app.settings import TTSSettings

PROVIDERS = {
    "local": lambda settings: LocalProvider(settings.local_voice),
    "deepgram": DeepgramProvider,
    "elevenlabs": ElevenLabsProvider,
    "google": GoogleProvider,
    "azure": AzureProvider,
    "cartesia": CartesiaProvider,
    "openai": OpenAIProvider,
}
# Other names a request may use for a provider (upstream accepts both spellings of Azure).
ALIASES = {"microsoft-azure": "azure"}


def canonical_slug(name: str) -> str:
    slug = name.strip().lower()
    return ALIASES.get(slug, slug)


def build_providers(settings: TTSSettings) -> dict[str, SpeechProvider]:
    return {slug: factory(settings) for slug, factory in PROVIDERS.items()}
