"""A fake Deepgram (Aura TTS and the model catalog) as a real HTTP server, speaking Deepgram's wire format
(developers.deepgram.com, text-to-speech REST): `Authorization: Token <key>`, everything but the text in the query,
parameters checked per encoding, errors in Deepgram's legacy `{err_code, err_msg, request_id}` shape."""

from __future__ import annotations

import json
import threading
import time
import uuid

from flask import Flask, Response, request

from tests.fakes.pacing import Pacing
from tests.fakes.server import barrier_passed
from tests.fakes.tone import encode, tone

MODELS = [
    {
        "name": "thalia",
        "canonical_name": "aura-2-thalia-en",
        "architecture": "aura-2",
        "languages": ["en", "en-US"],
        "version": "2025-04-07.0",
        "uuid": "ecb76e9d-f2db-4127-8060-79b05590d22f",
        "metadata": {
            "accent": "American",
            "age": "Adult",
            "sample": "https://static.deepgram.com/examples/Aura-2-thalia.wav",
            "tags": ["feminine", "clear", "confident"],
            "use_cases": ["IVR"],
        },
    },
    {
        "name": "zeus",
        "canonical_name": "aura-2-zeus-en",
        "architecture": "aura-2",
        "languages": ["en", "en-US"],
        "version": "2025-04-07.0",
        "uuid": "2baf189d-91ac-481d-b6d1-750888667b31",
        "metadata": {
            "accent": "American",
            "age": "Adult",
            "sample": "https://static.deepgram.com/examples/Aura-2-zeus.wav",
            "tags": ["masculine", "deep", "trustworthy"],
            "use_cases": ["IVR"],
        },
    },
    {
        "name": "asteria",
        "canonical_name": "aura-asteria-en",
        "architecture": "aura",
        "language": "en",
        "version": "2023-11-01.0",
        "uuid": "12345678-1234-1234-1234-123456789abc",
        "metadata": {"accent": "American", "tags": ["feminine"]},
    },
]
_STT = [
    {
        "name": "nova-3",
        "canonical_name": "nova-3",
        "architecture": "base",
        "languages": ["en"],
        "batch": True,
        "streaming": True,
    }
]
_KNOWN_PARAMS = {
    "model",
    "encoding",
    "container",
    "sample_rate",
    "bit_rate",
    "speed",
    "callback",
    "callback_method",
    "mip_opt_out",
    "tag",
}
_PCM_RATES = {8000, 16000, 24000, 32000, 48000}
# encoding -> (allowed containers (first = default), allowed rates or None when fixed, fixed rate)
_ENCODINGS = {
    "linear16": (("wav", "none"), _PCM_RATES, 24000),
    "mulaw": (("wav", "none"), {8000, 16000}, 8000),
    "alaw": (("wav", "none"), {8000, 16000}, 8000),
    "flac": ((), {8000, 16000, 22050, 32000, 48000}, 48000),
    "mp3": ((), None, 22050),
    "opus": (("ogg",), None, 48000),
}
_SOUNDFILE = {"linear16": "PCM_16", "mulaw": "ULAW", "alaw": "ALAW"}
MAX_CHARS = 2000


class FakeDeepgram:
    def __init__(self, api_key: str = "dg-test-key", latency: float = 0.0):
        self.api_key = api_key
        self.latency = latency
        self.calls: list[dict] = []
        self.fail_next: list[int] = []  # statuses to answer before behaving normally (e.g. [503, 429])
        self.catalog_down = False
        self.catalog_latency = 0.0
        self.catalog_barrier: threading.Barrier | None = None  # answer the catalog only once all parties ask
        self.speak_gate: threading.Event | None = None  # hold every synthesis until the test sets it
        self._lock = threading.Lock()
        self.pacing: Pacing | None = None  # how the audio body is sent (tests of streaming)
        self.app = Flask("fake-deepgram")
        self.app.add_url_rule("/v1/speak", "speak", self._speak, methods=["POST"])
        self.app.add_url_rule("/v1/models", "models", self._models, methods=["GET"])

    @property
    def speak_calls(self) -> list[dict]:
        return [call for call in self.calls if call["path"] == "/v1/speak"]

    def _record(self) -> None:
        with self._lock:
            self.calls.append(
                {
                    "path": request.path,
                    "query": request.args.to_dict(),
                    "body": request.get_data(as_text=True),
                    "authorization": request.headers.get("Authorization", ""),
                }
            )

    def _authorized(self) -> bool:
        return request.headers.get("Authorization") == f"Token {self.api_key}"

    def _speak(self):
        self._record()
        with self._lock:
            forced = self.fail_next.pop(0) if self.fail_next else None
        if forced == 429:
            return _error(429, "Too Many Requests", "Please try again later.")
        if forced:
            return Response(
                json.dumps(
                    {
                        "error_code": "Service Unavailable",
                        "err_msg": "Please try again later",
                        "request_id": str(uuid.uuid4()),
                    }
                ),
                status=forced,
                mimetype="application/json",
            )
        if not self._authorized():
            return _error(401, "INVALID_AUTH", "Invalid credentials.")
        if request.mimetype not in ("application/json", "text/plain"):
            return _error(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "`Content-Type` header is not supported. `Content-Type` "
                "must be either `text/plain` or `application/json`.",
            )
        try:
            body = (
                json.loads(request.get_data(as_text=True))
                if request.mimetype == "application/json"
                else {"text": request.get_data(as_text=True)}
            )
        except ValueError:
            body = None
        if not isinstance(body, dict) or ("text" in body) == ("url" in body):
            return _error(
                400,
                "PAYLOAD_ERROR",
                "Failed to deserialize JSON payload. Please specify exactly one of `text` or `url` in the JSON body.",
            )
        text = body.get("text") or ""
        unknown = set(request.args) - _KNOWN_PARAMS
        if unknown:
            return _error(
                400,
                "INVALID_QUERY_PARAMETER",
                f"Failed to deserialize query parameters: unknown field `{sorted(unknown)[0]}`",
            )
        model = request.args.get("model", "aura-asteria-en")
        if model not in {m["canonical_name"] for m in MODELS}:
            return _error(400, "Bad Request", "Bad Request: No such model/language/tier combination found.")
        if not text.strip():
            return _error(400, "Bad Request", "Input text contains no characters.")
        if len(text) > MAX_CHARS:
            return _error(413, "Payload Too Large", f"Input text exceeds maximum character limit of {MAX_CHARS}.")
        problem, encoding, container, rate = _audio_params(request.args)
        if problem:
            return _error(400, "INVALID_QUERY_PARAMETER", problem)
        speed = request.args.get("speed")
        if speed is not None and not 0.7 <= float(speed) <= 1.5:
            return _error(400, "INVALID_QUERY_PARAMETER", "speed must be between 0.7 and 1.5")
        if self.latency:
            time.sleep(self.latency)
        if self.speak_gate is not None and not self.speak_gate.wait(timeout=60):
            return _error(504, "Gateway Timeout", "the test never opened the gate")
        samples = tone(text, rate)
        if encoding in _SOUNDFILE:
            data = encode(samples, rate, "WAV" if container == "wav" else "RAW", _SOUNDFILE[encoding])
            content_type = "audio/wav" if container == "wav" else "application/octet-stream"
        elif encoding == "flac":
            data, content_type = encode(samples, rate, "FLAC", "PCM_16"), "audio/flac"
        elif encoding == "mp3":
            data, content_type = encode(samples, rate, "MP3", "MPEG_LAYER_III"), "audio/mpeg"
        else:
            data, content_type = encode(samples, rate, "OGG", "OPUS"), "audio/ogg"
        headers = {"dg-request-id": str(uuid.uuid4()), "dg-model-name": model, "dg-char-count": str(len(text))}
        if self.pacing:
            return self.pacing.response(data, content_type, headers)
        return Response(data, mimetype=content_type, headers=headers)

    def _models(self):
        self._record()
        if self.catalog_latency:
            time.sleep(self.catalog_latency)
        if not barrier_passed(self.catalog_barrier):
            return Response(
                json.dumps({"err_code": "Service Unavailable", "err_msg": "asked alone"}),
                status=503,
                mimetype="application/json",
            )
        if request.headers.get("Authorization") and not self._authorized():
            return _error(401, "INVALID_AUTH", "Invalid credentials.")
        if self.catalog_down:
            return Response(
                json.dumps({"error_code": "Service Unavailable", "err_msg": "Please try again later"}),
                status=503,
                mimetype="application/json",
            )
        return Response(json.dumps({"stt": _STT, "tts": MODELS}), mimetype="application/json")


def _audio_params(args) -> tuple[str, str, str, int]:
    """(problem, encoding, container, rate) following Deepgram's table of valid combinations."""
    encoding = args.get("encoding", "mp3")
    if encoding not in _ENCODINGS:
        return f"Unsupported audio format: unknown encoding `{encoding}`", encoding, "", 0
    containers, rates, fixed_rate = _ENCODINGS[encoding]
    container = args.get("container")
    if container is not None and container not in containers:
        return f"Unsupported audio format: container is not applicable when encoding={encoding}", encoding, "", 0
    container = container or (containers[0] if containers else "")
    if "sample_rate" in args:
        if rates is None:
            return f"Unsupported audio format: sample_rate is not applicable when encoding={encoding}", encoding, "", 0
        if not args["sample_rate"].isdigit() or int(args["sample_rate"]) not in rates:
            return (
                f"Unsupported audio format: sample_rate {args['sample_rate']} with encoding={encoding}",
                encoding,
                "",
                0,
            )
        return "", encoding, container, int(args["sample_rate"])
    return "", encoding, container, fixed_rate


def _error(status: int, code: str, message: str) -> Response:
    return Response(
        json.dumps({"err_code": code, "err_msg": message, "request_id": str(uuid.uuid4())}),
        status=status,
        mimetype="application/json",
    )
