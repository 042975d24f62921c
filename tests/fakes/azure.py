"""A fake Azure AI Speech (text to speech REST) as a real HTTP server. Its URLs start with the region,
`/{region}/cognitiveservices/v1` and `/{region}/cognitiveservices/voices/list`, so the server is pointed
at it with `AZURE_SPEECH_BASE_URL=http://127.0.0.1:<port>/{region}` and a key only works in its own
region, as with the real regional hosts. SSML in (`application/ssml+xml`), audio out as
`X-Microsoft-OutputFormat` asks (raw, RIFF, mp3, Ogg/Opus), errors with empty bodies, the voice list a
JSON array of PascalCase objects. Wire facts: Microsoft's Speech service REST reference (text to speech)
and its SpeechSynthesisOutputFormat list."""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET

from flask import Flask, Response, request

from tests.fakes.pacing import Pacing
from tests.fakes.tone import encode, tone

VOICES = [
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (en-US, JennyNeural)",
        "DisplayName": "Jenny",
        "LocalName": "Jenny",
        "ShortName": "en-US-JennyNeural",
        "Gender": "Female",
        "Locale": "en-US",
        "LocaleName": "English (United States)",
        "StyleList": ["assistant", "chat", "cheerful"],
        "SampleRateHertz": "24000",
        "VoiceType": "Neural",
        "Status": "GA",
        "WordsPerMinute": "152",
    },
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (en-GB, RyanNeural)",
        "DisplayName": "Ryan",
        "LocalName": "Ryan",
        "ShortName": "en-GB-RyanNeural",
        "Gender": "Male",
        "Locale": "en-GB",
        "LocaleName": "English (United Kingdom)",
        "SampleRateHertz": "24000",
        "VoiceType": "Neural",
        "Status": "GA",
    },
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (de-DE, KatjaNeural)",
        "DisplayName": "Katja",
        "LocalName": "Katja",
        "ShortName": "de-DE-KatjaNeural",
        "Gender": "Female",
        "Locale": "de-DE",
        "LocaleName": "German (Germany)",
        "SampleRateHertz": "48000",
        "VoiceType": "Neural",
        "Status": "GA",
        "SecondaryLocaleList": ["en-US"],
    },
]
_SSML_NS = "{http://www.w3.org/2001/10/synthesis}"
_RATES = {"8khz": 8000, "16khz": 16000, "22050hz": 22050, "24khz": 24000, "44100hz": 44100, "48khz": 48000}
# X-Microsoft-OutputFormat -> (rate, soundfile container, subtype, Content-Type)
OUTPUT_FORMATS = {
    **{f"raw-{n}-16bit-mono-pcm": (r, "RAW", "PCM_16", "audio/x-wav") for n, r in _RATES.items()},
    **{f"riff-{n}-16bit-mono-pcm": (r, "WAV", "PCM_16", "audio/x-wav") for n, r in _RATES.items()},
    "raw-8khz-8bit-mono-mulaw": (8000, "RAW", "ULAW", "audio/basic"),
    "riff-8khz-8bit-mono-mulaw": (8000, "WAV", "ULAW", "audio/x-wav"),
    "raw-8khz-8bit-mono-alaw": (8000, "RAW", "ALAW", "audio/basic"),
    **{f"audio-16khz-{b}kbitrate-mono-mp3": (16000, "MP3", "MPEG_LAYER_III", "audio/mpeg") for b in (32, 64, 128)},
    **{f"audio-24khz-{b}kbitrate-mono-mp3": (24000, "MP3", "MPEG_LAYER_III", "audio/mpeg") for b in (48, 96, 160)},
    **{f"audio-48khz-{b}kbitrate-mono-mp3": (48000, "MP3", "MPEG_LAYER_III", "audio/mpeg") for b in (96, 192)},
    **{
        f"ogg-{n}-16bit-mono-opus": (r, "OGG", "OPUS", "audio/ogg")
        for n, r in _RATES.items()
        if r in (16000, 24000, 48000)
    },
}
_PROSODY_RATE = re.compile(r"^[+-]\d+(\.\d+)?%$")


class FakeAzure:
    def __init__(self, api_key: str = "az-test-key", region: str = "westeurope"):
        self.keys = {api_key: region}  # key -> the one region it works in
        self.calls: list[dict] = []
        self.fail_next: list[int] = []
        self._lock = threading.Lock()
        self.pacing: Pacing | None = None  # how the audio body is sent (tests of streaming)
        self.app = Flask("fake-azure")
        self.app.add_url_rule("/<region>/cognitiveservices/v1", "tts", self._tts, methods=["POST"])
        self.app.add_url_rule("/<region>/cognitiveservices/voices/list", "voices", self._voices, methods=["GET"])

    @property
    def speak_calls(self) -> list[dict]:
        return [call for call in self.calls if call["path"].endswith("/cognitiveservices/v1")]

    def _record(self, region: str) -> None:
        with self._lock:
            self.calls.append(
                {
                    "path": request.path,
                    "region": region,
                    "body": request.get_data(as_text=True),
                    "key": request.headers.get("Ocp-Apim-Subscription-Key", ""),
                    "output_format": request.headers.get("X-Microsoft-OutputFormat", ""),
                    "user_agent": request.headers.get("User-Agent", ""),
                }
            )

    def _authorized(self, region: str) -> bool:
        return self.keys.get(request.headers.get("Ocp-Apim-Subscription-Key", "")) == region

    def _tts(self, region: str):
        self._record(region)
        with self._lock:
            forced = self.fail_next.pop(0) if self.fail_next else None
        if forced:
            return Response(status=forced)
        if not self._authorized(region):  # a wrong key, or a key of another region
            return Response(status=401)
        if request.mimetype != "application/ssml+xml":
            return Response(status=415)
        if not request.headers.get("User-Agent"):
            return Response(status=400)
        output = OUTPUT_FORMATS.get(request.headers.get("X-Microsoft-OutputFormat", ""))
        if output is None:
            return Response(status=400)
        try:
            root = ET.fromstring(request.get_data())
        except ET.ParseError:
            return Response(status=400)
        voice = root.find(f"{_SSML_NS}voice")
        if root.tag != f"{_SSML_NS}speak" or voice is None:
            return Response(status=400)
        if voice.get("name") not in {v["ShortName"] for v in VOICES}:
            return Response(status=400)
        prosody = voice.find(f"{_SSML_NS}prosody")
        if prosody is not None and not _PROSODY_RATE.match(prosody.get("rate", "")):
            return Response(status=400)
        text = "".join(voice.itertext())
        rate, container, subtype, content_type = output
        data = encode(tone(text, rate), rate, container, subtype)
        if self.pacing:
            return self.pacing.response(data, content_type)
        return Response(data, mimetype=content_type)

    def _voices(self, region: str):
        self._record(region)
        if not self._authorized(region):
            return Response(status=401)
        return Response(json.dumps(VOICES), mimetype="application/json")
