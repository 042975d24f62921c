"""Sentences of features/speak.feature."""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import parse_qsl

import numpy as np
import soundfile
from pytest_bdd import given, parsers, then, when

from tests.fakes.deepgram import FakeDeepgram
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.server import FakeServer, unused_port_url

DEEPGRAM_KEY = "dg-test-key"
ELEVENLABS_KEY = "el-test-key"


def start_deepgram(world) -> FakeDeepgram:
    return _start_provider(world, "deepgram", FakeDeepgram(api_key=DEEPGRAM_KEY), DEEPGRAM_KEY)


def start_elevenlabs(world) -> FakeElevenLabs:
    return _start_provider(world, "elevenlabs", FakeElevenLabs(api_key=ELEVENLABS_KEY), ELEVENLABS_KEY)


def _start_provider(world, name: str, fake, api_key: str):
    """Serve the fake provider and point the app's settings (key and base URL) at it."""
    server = world.start_fake(name, FakeServer(fake.app))
    server.service = fake
    world.set(f"{name.upper()}_API_KEY", api_key)
    world.set(f"{name.upper()}_BASE_URL", server.url)
    return fake


def fake(world, name: str):
    return world.fakes[name.lower()].service


# --- Given -----------------------------------------------------------------------------------------


@given("Deepgram is available")
def deepgram_available(world):
    start_deepgram(world)


@given("ElevenLabs is available")
def elevenlabs_available(world):
    start_elevenlabs(world)


@given("Deepgram cannot be reached")
def deepgram_unreachable(world):
    world.set("DEEPGRAM_API_KEY", DEEPGRAM_KEY)
    world.set("DEEPGRAM_BASE_URL", unused_port_url())


@given(parsers.parse("{provider} fails {count:d} times in a row with status {status:d}"))
def provider_fails(world, provider, count, status):
    fake(world, provider).fail_next = [status] * count


# --- When ------------------------------------------------------------------------------------------


@when(parsers.parse('I ask to speak "{text}"'))
def ask_to_speak(world, text):
    world.request("POST", "/speak", json={"text": text})


@when(parsers.parse('I ask to speak "{text}" accepting "{accept}"'))
def ask_to_speak_accepting(world, text, accept):
    world.request("POST", "/speak", json={"text": text}, headers={"Accept": accept})


@when(parsers.parse('I ask Deepgram to speak "{text}"'))
def ask_deepgram(world, text):
    world.request("POST", "/speak", json={"text": text, "provider": "deepgram"})


@when(parsers.parse('I ask Deepgram to speak "{text}" with the voice "{voice}"'))
def ask_deepgram_voice(world, text, voice):
    world.request("POST", "/speak", json={"text": text, "provider": "deepgram", "voice_id": voice})


@when(parsers.parse("I ask Deepgram to speak a text of {length:d} characters"))
def ask_deepgram_long(world, length):
    world.request("POST", "/speak", json={"text": ("All work and no play. " * length)[:length], "provider": "deepgram"})


@when(parsers.parse('I POST "{path}" accepting "{accept}" with the JSON body:'))
def post_accepting(world, path, accept, docstring):
    world.request("POST", path, data=docstring, content_type="application/json", headers={"Accept": accept})


@when(parsers.parse('I POST "{path}" with the token "{token}" and the JSON body:'))
def post_with_token(world, path, token, docstring):
    world.request(
        "POST", path, data=docstring, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )


@when(parsers.parse('I GET "{path}" asking for the bytes {first:d}-{last:d}'))
def get_range(world, path, first, last):
    world.full = world.request("GET", path, buffered=True)
    world.request("GET", path, headers={"Range": f"bytes={first}-{last}"}, buffered=True)


@when(parsers.parse('I GET "{path}" again with the ETag it answered'))
def get_again_with_etag(world, path):
    world.request("GET", path, headers={"If-None-Match": world.response.headers["ETag"]}, buffered=True)


@then(parsers.parse("I receive the bytes {first:d}-{last:d} of the audio"))
def received_range(world, first, last):
    size = len(world.full.data)
    assert world.response.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert world.response.data == world.full.data[first : last + 1]


@then("I receive no body")
def no_body(world):
    assert world.response.data == b""


@when("the cached audio file is damaged on disk")
def damage_cache_file(world):
    world.app.extensions["services"].cache.settle()  # the writer thread stores after the answer
    files = [p for p in (world.tmp_path / "data" / "cache").rglob("*") if p.is_file() and ".locks" not in p.parts]
    assert len(files) == 1, files
    data = bytearray(files[0].read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    files[0].write_bytes(bytes(data))
    store = world.app.extensions["services"].cache.store
    if hasattr(store, "bucket"):  # S3 (TEST_CACHE_BACKEND=s3): that was this host's copy; the blob too
        store.client.put_object(Bucket=store.bucket, Key=store.key(files[0].name), Body=bytes(data))


# --- Then ------------------------------------------------------------------------------------------


def assert_speech(samples: np.ndarray, rate: int) -> None:
    """Real speech, not silence or a click: long enough, loud enough, and with quiet gaps between words."""
    samples = samples.astype(np.float64)
    assert samples.size > rate * 0.3, samples.size
    assert np.sqrt(np.mean(samples**2)) > 500, "audio is (nearly) silent"
    window = rate // 50
    energies = [np.sqrt(np.mean(samples[i : i + window] ** 2)) for i in range(0, samples.size - window, window)]
    loud = sum(e > 300 for e in energies) / len(energies)
    assert 0.3 < loud < 0.98, loud


@then(parsers.parse("I receive JSON whose audio is 16-bit PCM speech at {rate:d} Hz"))
def json_speech(world, rate):
    assert world.response.is_json, world.response.content_type
    body = world.response.get_json()
    assert body["metadata"]["audio_format"] == "linear16"
    assert body["metadata"]["sample_rate"] == rate
    data = base64.b64decode(body["audio"])
    assert body["metadata"]["bytes"] == len(data)
    samples = np.frombuffer(data, dtype="<i2")
    assert abs(body["metadata"]["duration_ms"] - samples.size * 1000 / rate) < 2
    assert_speech(samples, rate)


@then(parsers.parse('I receive a playable "{content_type}" file of speech at {rate:d} Hz'))
def playable_speech(world, content_type, rate):
    samples = playable(world, content_type, rate)
    assert_speech(samples, rate)


@then(parsers.parse('I receive a playable "{content_type}" file at {rate:d} Hz'))
def playable(world, content_type, rate):
    assert world.response.content_type == content_type, world.response.content_type
    samples, actual_rate = soundfile.read(io.BytesIO(world.response.data), dtype="int16")
    assert actual_rate == rate
    assert samples.size > 0
    return samples


@then(parsers.parse('I receive "{content_type}" audio bytes'))
def audio_bytes(world, content_type):
    assert world.response.headers["Content-Type"] == content_type, world.response.headers
    assert int(world.response.headers["Content-Length"]) == len(world.response.data) > 0


@then(parsers.parse('the audio headers say "{audio_format}" at "{rate}" Hz by "{provider}" with voice "{voice}"'))
def audio_headers(world, audio_format, rate, provider, voice):
    names = {name: value for name, value in world.response.headers.items()}  # exact casing, as the SDK sees it
    assert names.get("x-audio-format") == audio_format, names
    assert names.get("x-sample-rate") == rate, names
    assert names.get("x-provider") == provider, names
    assert names.get("x-voice-id") == voice, names
    assert names.get("x-cache") in ("HIT", "MISS"), names


def _cached(world) -> bool:
    """Whether the answer says it came from the cache: its x-cache header and, in a JSON answer, metadata.cached."""
    assert world.response.status_code == 200, world.response.get_data(as_text=True)
    cached = {"HIT": True, "MISS": False}[world.response.headers["X-Cache"]]
    if world.response.is_json:
        assert world.response.get_json()["metadata"]["cached"] is cached
    return cached


@then("the response was served from the cache")
def served_from_cache(world):
    assert _cached(world)


@then("the response was synthesized")
def synthesized(world):
    assert not _cached(world)


@then(parsers.parse("{provider} was called {count:d} time"))
@then(parsers.parse("{provider} was called {count:d} times"))
def provider_called(world, provider, count):
    assert len(fake(world, provider).speak_calls) == count, fake(world, provider).speak_calls


@then(parsers.parse('Deepgram was asked with "{query}"'))
def deepgram_query(world, query):
    call = fake(world, "deepgram").speak_calls[-1]
    assert call["query"] == dict(parse_qsl(query)), call["query"]


@then(parsers.parse('Deepgram was asked to say "{text}" with its key'))
def deepgram_text(world, text):
    call = fake(world, "deepgram").speak_calls[-1]
    assert json.loads(call["body"]) == {"text": text}
    assert call["authorization"] == f"Token {DEEPGRAM_KEY}"


@then(parsers.parse('ElevenLabs was asked for voice "{voice}" in "{output_format}" with its key'))
def elevenlabs_call(world, voice, output_format):
    call = fake(world, "elevenlabs").speak_calls[-1]
    # a binary answer is streamed from ElevenLabs' /stream endpoint, a JSON one asked from the plain one
    assert call["path"] in (f"/v1/text-to-speech/{voice}", f"/v1/text-to-speech/{voice}/stream")
    assert call["query"] == {"output_format": output_format}
    assert call["api_key"] == ELEVENLABS_KEY


@then(parsers.parse("ElevenLabs received the voice settings {settings}"))
def elevenlabs_settings(world, settings):
    call = fake(world, "elevenlabs").speak_calls[-1]
    assert json.loads(call["body"])["voice_settings"] == json.loads(settings)
