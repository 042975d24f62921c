"""A fake ElevenLabs (text to speech and the voice list) as a real HTTP server, speaking ElevenLabs' wire
format (elevenlabs.io/docs API reference): `xi-api-key`, `output_format` in the query, errors under
`detail` (an object with status/code and message, or FastAPI's validation list)."""

from __future__ import annotations

import json
import threading
import time
import uuid

from flask import Flask, Response, request

from tests.fakes.pacing import Pacing
from tests.fakes.server import barrier_passed
from tests.fakes.tone import encode, tone

VOICES = [
    {
        "voice_id": "21m00Tcm4TlvDq8ikWAM",
        "name": "Rachel",
        "category": "premade",
        "labels": {
            "accent": "american",
            "description": "calm",
            "age": "young",
            "gender": "female",
            "use_case": "narration",
        },
        "description": None,
        "preview_url": "https://storage.googleapis.com/eleven-public-prod/premade/voices/rachel.mp3",
        "fine_tuning": {"is_allowed_to_fine_tune": False, "language": "en", "state": {}},
        "verified_languages": [
            {
                "language": "en",
                "model_id": "eleven_multilingual_v2",
                "accent": "american",
                "locale": "en-US",
                "preview_url": None,
            }
        ],
        "high_quality_base_model_ids": ["eleven_multilingual_v2"],
    },
    {
        "voice_id": "pNInz6obpgDQGcFmaJgB",
        "name": "Adam",
        "category": "premade",
        "labels": {
            "accent": "american",
            "description": "deep",
            "age": "middle aged",
            "gender": "male",
            "use case": "narration",
        },
        "preview_url": None,
        "verified_languages": [],
    },
]
MODELS = {
    "eleven_multilingual_v2": 10_000,
    "eleven_flash_v2_5": 40_000,
    "eleven_turbo_v2_5": 40_000,
    "eleven_v3": 5_000,
}
_PCM_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
OUTPUT_FORMATS = {
    **{f"pcm_{r}": ("RAW", "PCM_16", r, "audio/pcm") for r in _PCM_RATES},
    **{f"wav_{r}": ("WAV", "PCM_16", r, "audio/wav") for r in _PCM_RATES},
    "ulaw_8000": ("RAW", "ULAW", 8000, "audio/basic"),
    "alaw_8000": ("RAW", "ALAW", 8000, "audio/basic"),
    **{
        f"mp3_{spec}": ("MP3", "MPEG_LAYER_III", int(spec.split("_")[0]), "audio/mpeg")
        for spec in ("22050_32", "24000_48", "44100_32", "44100_64", "44100_96", "44100_128", "44100_192")
    },
    **{f"opus_48000_{b}": ("OGG", "OPUS", 48000, "audio/ogg") for b in (32, 64, 96, 128, 192)},
}
_VOICE_SETTINGS = {
    "stability": float,
    "similarity_boost": float,
    "style": float,
    "use_speaker_boost": bool,
    "speed": float,
}


class FakeElevenLabs:
    def __init__(self, api_key: str = "el-test-key", latency: float = 0.0):
        self.api_key = api_key
        self.latency = latency
        self.calls: list[dict] = []
        self.fail_next: list[int] = []
        self.catalog_down = False
        self.catalog_latency = 0.0
        self.catalog_barrier: threading.Barrier | None = None  # answer the catalog only once all parties ask
        self._lock = threading.Lock()
        self.pacing: Pacing | None = None  # how the audio body is sent (tests of streaming)
        self.app = Flask("fake-elevenlabs")
        self.app.add_url_rule("/v1/text-to-speech/<voice_id>", "tts", self._tts, methods=["POST"])
        # the streaming endpoint takes the same request and answers the same audio, chunked
        self.app.add_url_rule("/v1/text-to-speech/<voice_id>/stream", "tts_stream", self._tts, methods=["POST"])
        self.app.add_url_rule("/v1/voices", "voices", self._voices, methods=["GET"])

    @property
    def speak_calls(self) -> list[dict]:
        return [call for call in self.calls if call["path"].startswith("/v1/text-to-speech/")]

    def _record(self) -> None:
        with self._lock:
            self.calls.append(
                {
                    "path": request.path,
                    "query": request.args.to_dict(),
                    "body": request.get_data(as_text=True),
                    "api_key": request.headers.get("xi-api-key"),
                }
            )

    def _tts(self, voice_id: str):
        self._record()
        with self._lock:
            forced = self.fail_next.pop(0) if self.fail_next else None
        if forced == 429:
            return _detail(
                429,
                "too_many_concurrent_requests",
                "This request exceeds your concurrency limit of 2. Please try again later.",
            )
        if forced:
            return _detail(forced, "system_busy", "The system is experiencing heavy traffic, please try again.")
        if request.headers.get("xi-api-key") != self.api_key:
            return _detail(401, "invalid_api_key", "Invalid API key")
        try:
            body = request.get_json(force=True, silent=False)
        except Exception:  # noqa: BLE001 - any undecodable body is FastAPI's 422
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return _validation(["body", "text"], "Field required", "missing")
        problem = _voice_settings_problem(body.get("voice_settings"))
        if problem:
            return _validation(["body", "voice_settings", problem[0]], problem[1], "value_error")
        output_format = request.args.get("output_format", "mp3_44100_128")
        if output_format not in OUTPUT_FORMATS:
            return _detail(
                400, "invalid_output_format", f"Invalid output format: {output_format}", param="output_format"
            )
        model = body.get("model_id") or "eleven_multilingual_v2"
        if model not in MODELS:
            return _detail(400, "model_not_found", f"A model with model ID {model} does not exist.")
        if voice_id not in {v["voice_id"] for v in VOICES}:
            return _detail(404, "voice_not_found", f"A voice with the voice_id {voice_id} was not found.")
        if len(body["text"]) > MODELS[model]:
            return _detail(
                400,
                "max_character_limit_exceeded",
                f"This request's text has {len(body['text'])} characters and exceeds the character "
                f"limit of {MODELS[model]} characters for non signed in accounts.",
            )
        if self.latency:
            time.sleep(self.latency)
        container, subtype, rate, content_type = OUTPUT_FORMATS[output_format]
        data = encode(tone(body["text"], rate), rate, container, subtype)
        if self.pacing:
            return self.pacing.response(data, content_type, {"request-id": uuid.uuid4().hex})
        return Response(data, mimetype=content_type, headers={"request-id": uuid.uuid4().hex})

    def _voices(self):
        self._record()
        if self.catalog_latency:
            time.sleep(self.catalog_latency)
        if not barrier_passed(self.catalog_barrier):
            return _detail(503, "service_unavailable", "asked alone")
        if request.headers.get("xi-api-key") != self.api_key:
            return _detail(401, "invalid_api_key", "Invalid API key")
        if self.catalog_down:
            return _detail(500, "internal_error", "An internal error occurred.")
        return Response(json.dumps({"voices": VOICES}), mimetype="application/json")


def _voice_settings_problem(settings) -> tuple[str, str] | None:
    if settings is None:
        return None
    if not isinstance(settings, dict):
        return "", "Input should be a valid dictionary"
    for name, value in settings.items():
        expected = _VOICE_SETTINGS.get(name)
        if expected is None:
            return name, "Extra inputs are not permitted"
        if expected is bool and not isinstance(value, bool):
            return name, "Input should be a valid boolean"
        if expected is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return name, "Input should be a valid number"
    return None


def _detail(status: int, code: str, message: str, param: str | None = None) -> Response:
    detail = {
        "type": "validation_error" if status < 500 else "server_error",
        "code": code,
        "message": message,
        "status": code,
        "request_id": uuid.uuid4().hex,
    }
    if param:
        detail["param"] = param
    return Response(json.dumps({"detail": detail}), status=status, mimetype="application/json")


def _validation(location: list[str], message: str, kind: str) -> Response:
    return Response(
        json.dumps({"detail": [{"loc": location, "msg": message, "type": kind}]}),
        status=422,
        mimetype="application/json",
    )
