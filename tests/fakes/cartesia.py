"""A fake Cartesia (Sonic `POST /tts/bytes` and `GET /voices`) as a real HTTP server: the
`Cartesia-Version` header is required, the key comes as `Authorization: Bearer` (or the older
`X-API-Key`), `output_format` is checked against Cartesia's containers, encodings and rates, voices come
in cursor pages (`limit` ≤ 100, `starting_after`, `has_more`, `next_page`), errors are Cartesia's JSON
`{error_code, title, message, request_id}`. Wire facts: the Cartesia API reference (2025-04-16)."""

from __future__ import annotations

import json
import threading
import uuid

from flask import Flask, Response, request

from tests.fakes.pacing import Pacing
from tests.fakes.tone import encode, tone

NAMED_VOICES = [
    {
        "id": "694f9389-aac1-45b6-b726-9d9369183238",
        "name": "Sarah",
        "description": "Friendly, clear American voice",
        "language": "en",
        "gender": "feminine",
        "is_public": True,
        "created_at": "2024-05-01T00:00:00Z",
        "preview_file_url": "https://play.cartesia.ai/previews/sarah.wav",
    },
    {
        "id": "a167e0f3-df7e-4d52-a9c3-f949145efdab",
        "name": "Blake",
        "description": "Energetic man",
        "language": "en",
        "gender": "masculine",
        "is_public": True,
        "created_at": "2024-05-01T00:00:00Z",
    },
]
# enough voices for two pages of 100
VOICES = NAMED_VOICES + [
    {
        "id": str(uuid.UUID(int=i)),
        "name": f"Voice {i}",
        "description": "",
        "language": "fr",
        "gender": "gender_neutral",
        "is_public": True,
        "created_at": "2024-06-01T00:00:00Z",
    }
    for i in range(1, 119)
]
MODELS = {"sonic-3", "sonic-2", "sonic-english", "sonic-3.5", "sonic-latest"}
RATES = {8000, 16000, 22050, 24000, 44100, 48000}
_ENCODINGS = {"pcm_s16le": "PCM_16", "pcm_mulaw": "ULAW", "pcm_alaw": "ALAW", "pcm_f32le": "FLOAT"}
_CONTENT_TYPES = {"raw": "application/octet-stream", "wav": "audio/wav", "mp3": "audio/mpeg"}


class FakeCartesia:
    def __init__(self, api_key: str = "ca-test-key"):
        self.api_key = api_key
        self.calls: list[dict] = []
        self.fail_next: list[int] = []
        self._lock = threading.Lock()
        self.pacing: Pacing | None = None  # how the audio body is sent (tests of streaming)
        self.app = Flask("fake-cartesia")
        self.app.add_url_rule("/tts/bytes", "tts", self._tts, methods=["POST"])
        self.app.add_url_rule("/voices", "voices", self._voices, methods=["GET"])

    @property
    def speak_calls(self) -> list[dict]:
        return [call for call in self.calls if call["path"] == "/tts/bytes"]

    def _record(self) -> None:
        with self._lock:
            self.calls.append(
                {
                    "path": request.path,
                    "query": request.args.to_dict(),
                    "body": request.get_data(as_text=True),
                    "authorization": request.headers.get("Authorization", ""),
                    "version": request.headers.get("Cartesia-Version"),
                }
            )

    def _refusal(self) -> Response | None:
        if not request.headers.get("Cartesia-Version"):
            return _error(400, "missing_version", "Bad Request", "Cartesia-Version header is required")
        header = request.headers.get("Authorization", "")
        key = header[len("Bearer ") :] if header.startswith("Bearer ") else request.headers.get("X-API-Key", "")
        if key != self.api_key:
            return _error(401, "invalid_api_key", "Unauthorized", "Invalid API key")
        return None

    def _tts(self):
        self._record()
        with self._lock:
            forced = self.fail_next.pop(0) if self.fail_next else None
        if forced:
            return _error(forced, "service_unavailable", "Service Unavailable", "Please try again later")
        refusal = self._refusal()
        if refusal is not None:
            return refusal
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            return _error(400, "invalid_json", "Bad Request", "Request body is not valid JSON")
        if body.get("model_id") not in MODELS:
            return _error(400, "invalid_model", "Bad Request", f"Model {body.get('model_id')} not found")
        voice = body.get("voice") or {}
        if voice.get("mode") != "id" or voice.get("id") not in {v["id"] for v in VOICES}:
            return _error(400, "voice_not_found", "Bad Request", "Voice not found")
        text = body.get("transcript") or ""
        if not text.strip():
            return _error(400, "invalid_transcript", "Bad Request", "transcript must not be empty")
        out = body.get("output_format") or {}
        container, rate = out.get("container"), out.get("sample_rate")
        if container not in _CONTENT_TYPES or rate not in RATES:
            return _error(400, "invalid_output_format", "Bad Request", f"Invalid output_format: {out}")
        if container == "mp3":
            if not 32000 <= int(out.get("bit_rate") or 0) <= 192000:
                return _error(400, "invalid_output_format", "Bad Request", "bit_rate is required for mp3")
            data = encode(tone(text, rate), rate, "MP3", "MPEG_LAYER_III")
        else:
            subtype = _ENCODINGS.get(out.get("encoding"))
            if subtype is None:
                return _error(400, "invalid_output_format", "Bad Request", f"Invalid encoding {out.get('encoding')}")
            data = encode(tone(text, rate), rate, "WAV" if container == "wav" else "RAW", subtype)
        speed = (body.get("generation_config") or {}).get("speed", 1.0)
        if not 0.6 <= float(speed) <= 1.5:
            return _error(400, "invalid_generation_config", "Bad Request", "speed must be between 0.6 and 1.5")
        if self.pacing:
            return self.pacing.response(data, _CONTENT_TYPES[container])
        return Response(data, mimetype=_CONTENT_TYPES[container])

    def _voices(self):
        self._record()
        refusal = self._refusal()
        if refusal is not None:
            return refusal
        limit = int(request.args.get("limit") or 10)
        if not 1 <= limit <= 100:
            return _error(400, "invalid_limit", "Bad Request", "limit must be between 1 and 100")
        start = 0
        if "starting_after" in request.args:
            ids = [v["id"] for v in VOICES]
            if request.args["starting_after"] not in ids:
                return _error(400, "invalid_cursor", "Bad Request", "starting_after is not a voice id")
            start = ids.index(request.args["starting_after"]) + 1
        page = VOICES[start : start + limit]
        has_more = start + limit < len(VOICES)
        body = {"data": page, "has_more": has_more}
        if has_more:
            body["next_page"] = page[-1]["id"]
        return Response(json.dumps(body), mimetype="application/json")


def _error(status: int, code: str, title: str, message: str) -> Response:
    return Response(
        json.dumps({"error_code": code, "title": title, "message": message, "request_id": str(uuid.uuid4())}),
        status=status,
        mimetype="application/json",
    )
