"""Text to speech: providers behind one interface, the speech service and the voice catalog."""

from __future__ import annotations

from app.services.tts.request import Pronunciation, SpeechOrder, SpeechRequest
from app.services.tts.speech import SpeechResult, SpeechService
from app.services.tts.voice_catalog import VoiceCatalog

__all__ = ["Pronunciation", "SpeechOrder", "SpeechRequest", "SpeechResult", "SpeechService", "VoiceCatalog"]
