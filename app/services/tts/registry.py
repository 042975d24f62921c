"""Provider slug → implementation. Adding a provider: one new module and one line here."""
from __future__ import annotations

from app.services.tts.deepgram import DeepgramProvider
from app.services.tts.elevenlabs import ElevenLabsProvider
from app.services.tts.local import LocalProvider
from app.services.tts.provider import SpeechProvider
from app.settings import TTSSettings

PROVIDERS = {
    "local": lambda settings: LocalProvider(settings.local_voice),
    "deepgram": DeepgramProvider,
    "elevenlabs": ElevenLabsProvider,
}


def build_providers(settings: TTSSettings) -> dict[str, SpeechProvider]:
    return {slug: factory(settings) for slug, factory in PROVIDERS.items()}
