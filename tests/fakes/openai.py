"""A fake OpenAI speech endpoint (`POST /v1/audio/speech`) as a real HTTP server: Bearer key, JSON body
with `model`, `input`, `voice`, `response_format`, `speed`, `instructions` checked as the API does (every
format at 24 kHz), errors as `{"error": {message, type, param, code}}` (a wrong key is echoed masked, as
OpenAI does). Wire facts: OpenAI's API reference (audio/speech) and the `openai` package 3.57.0."""

from __future__ import annotations

import json
import threading

from flask import Flask, Response, request

from tests.fakes.pacing import Pacing
from tests.fakes.tone import encode, tone

MODELS = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts"}
VOICES = {
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
}
RATE = 24000
# response_format -> (soundfile container, subtype, Content-Type)
FORMATS = {
    "mp3": ("MP3", "MPEG_LAYER_III", "audio/mpeg"),
    "opus": ("OGG", "OPUS", "audio/ogg"),
    "wav": ("WAV", "PCM_16", "audio/wav"),
    "flac": ("FLAC", "PCM_16", "audio/flac"),
    "pcm": ("RAW", "PCM_16", "audio/pcm"),
}


class FakeOpenAI:
    def __init__(self, api_key: str = "sk-test-key-0123456789"):
        self.api_key = api_key
        self.calls: list[dict] = []
        self.fail_next: list[int] = []
        self._lock = threading.Lock()
        self.pacing: Pacing | None = None  # how the audio body is sent (tests of streaming)
        self.app = Flask("fake-openai")
        self.app.add_url_rule("/v1/audio/speech", "speech", self._speech, methods=["POST"])

    @property
    def speak_calls(self) -> list[dict]:
        return self.calls

    def _speech(self):
        with self._lock:
            self.calls.append(
                {
                    "path": request.path,
                    "body": request.get_data(as_text=True),
                    "authorization": request.headers.get("Authorization", ""),
                }
            )
            forced = self.fail_next.pop(0) if self.fail_next else None
        if forced:
            return _error(forced, "The server had an error while processing your request.", "server_error", None)
        header = request.headers.get("Authorization", "")
        key = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        if not key:
            return _error(401, "You didn't provide an API key.", "invalid_request_error", None)
        if key != self.api_key:
            masked = f"{key[:3]}{'*' * max(len(key) - 7, 0)}{key[-4:]}" if len(key) > 8 else "****"
            return _error(
                401,
                f"Incorrect API key provided: {masked}. You can find your API key at "
                f"https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                None,
                code="invalid_api_key",
            )
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            return _error(400, "We could not parse the JSON body of your request.", "invalid_request_error", None)
        for name in ("model", "input", "voice"):
            if not body.get(name):
                return _error(400, f"Missing required parameter: '{name}'.", "invalid_request_error", name)
        if body["model"] not in MODELS:
            return _error(
                404,
                f"The model `{body['model']}` does not exist or you do not have access to it.",
                "invalid_request_error",
                None,
                code="model_not_found",
            )
        if body["voice"] not in VOICES:
            return _error(400, f"Invalid value for 'voice': '{body['voice']}'.", "invalid_request_error", "voice")
        if len(body["input"]) > 4096:
            return _error(400, "'input' is too long: at most 4096 characters.", "invalid_request_error", "input")
        response_format = body.get("response_format", "mp3")
        if response_format not in FORMATS:
            return _error(
                400,
                f"Invalid value for 'response_format': '{response_format}'.",
                "invalid_request_error",
                "response_format",
            )
        if not 0.25 <= float(body.get("speed", 1.0)) <= 4.0:
            return _error(400, "'speed' must be between 0.25 and 4.0.", "invalid_request_error", "speed")
        if body.get("instructions") and body["model"].startswith("tts-1"):
            return _error(
                400, "Instructions are not supported for this model.", "invalid_request_error", "instructions"
            )
        container, subtype, content_type = FORMATS[response_format]
        # Ogg/Opus is encoded at 48 kHz; every other format at 24 kHz
        rate = 48000 if response_format == "opus" else RATE
        data = encode(tone(body["input"], rate), rate, container, subtype)
        if self.pacing:
            return self.pacing.response(data, content_type)
        return Response(data, mimetype=content_type)


def _error(status: int, message: str, kind: str, param, code=None) -> Response:
    return Response(
        json.dumps({"error": {"message": message, "type": kind, "param": param, "code": code}}),
        status=status,
        mimetype="application/json",
    )
