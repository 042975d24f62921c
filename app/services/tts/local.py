"""`local`: the offline espeak-ng voice, so the quickstart speaks without any key."""

from __future__ import annotations

from app.errors import BadRequest
from app.services.tts import audio
from app.services.tts.audio import Audio
from app.services.tts.espeak import SAMPLE_RATE, EspeakEngine, UnknownVoice
from app.services.tts.provider import SpeechProvider, Voice, voice
from app.services.tts.request import SpeechRequest

_NORMAL_WPM = 175
# espeak lists every language voice as male; these variants of the English voices are female.
_ENGLISH_VARIANTS = (
    ("gmw/en-US+f3", "English (America), female", "America", "en-us"),
    ("gmw/en+f3", "English (Great Britain), female", "Great Britain", "en-gb"),
)


class LocalProvider(SpeechProvider):
    slug = "local"
    max_text_chars = 5_000  # one synthesis holds the process-wide espeak lock: keep each one short
    default_model = "espeak-ng"
    # espeak accepts 80-450 words per minute, i.e. about 0.46x to 2.6x its normal 175
    min_speaking_rate = 0.5
    max_speaking_rate = 2.5
    auth_fields = ()  # offline: no credentials at all

    def __init__(self, default_voice: str):
        self.default_voice = default_voice

    def resolve_voice(self, voice_id: str | None, model: str | None) -> tuple[str, str]:
        return voice_id or self.default_voice, self.default_model

    def synthesize(self, request: SpeechRequest) -> Audio:
        pitch = request.voice_settings.get("pitch", 50)
        if not isinstance(pitch, (int, float)) or isinstance(pitch, bool) or not 0 <= pitch <= 100:
            raise BadRequest("voice_settings.pitch must be a number from 0 to 100", code="invalid_voice_settings")
        if not self.has_voice(request.voice_id):
            raise BadRequest(f"local: unknown voice '{request.voice_id}' (see GET /voices)", code="unknown_voice")
        try:
            pcm = EspeakEngine.instance().synthesize(
                request.text, request.voice_id, rate_wpm=round(_NORMAL_WPM * request.speaking_rate), pitch=round(pitch)
            )
        except UnknownVoice:
            raise BadRequest(
                f"local: unknown voice '{request.voice_id}' (see GET /voices)", code="unknown_voice"
            ) from None
        return audio.from_pcm(pcm, SAMPLE_RATE, request.audio_format, request.sample_rate)

    def has_voice(self, voice_id: str) -> bool:
        """A voice espeak accepts: an id from `list_voices`, or a language tag such as `en-us` (an alias
        of that language's voice)."""
        return EspeakEngine.instance().has_voice(voice_id)

    def list_voices(self) -> list[Voice]:
        voices = [
            voice(
                v.identifier,
                v.name,
                accent=_accent(v.name),
                gender=v.gender.capitalize(),
                language=v.languages[0] if v.languages else "",
                languages=list(v.languages),
                sample_rates=[SAMPLE_RATE],
            )
            for v in EspeakEngine.instance().voices()
        ]
        voices += [
            voice(
                id_,
                name,
                accent=accent,
                gender="Female",
                language=language,
                languages=[language],
                sample_rates=[SAMPLE_RATE],
            )
            for id_, name, accent, language in _ENGLISH_VARIANTS
        ]
        return voices


def _accent(name: str) -> str:
    """'English (America)' → 'America'."""
    return name[name.index("(") + 1 : name.rindex(")")] if "(" in name and name.endswith(")") else ""
