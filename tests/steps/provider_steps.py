"""Sentences that start any provider's fake and check the audio any provider returns (speak and voices
features). Deepgram's and ElevenLabs' own sentences stay in speak_steps."""

from __future__ import annotations

import io
import json

import numpy as np
import soundfile
from pytest_bdd import given, parsers, then, when

from tests.fakes.azure import FakeAzure
from tests.fakes.cartesia import FakeCartesia
from tests.fakes.google import FakeGoogle
from tests.fakes.openai import FakeOpenAI
from tests.fakes.server import FakeServer
from tests.steps.speak_steps import fake, start_deepgram, start_elevenlabs

AZURE_KEY, AZURE_REGION = "az-test-key", "westeurope"
CARTESIA_KEY = "ca-test-key"
OPENAI_KEY = "sk-test-key-0123456789"
CONTENT_TYPES = {
    "linear16": "audio/pcm",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "mulaw": "audio/basic",
    "flac": "audio/flac",
}


def _serve(world, name: str, service):
    server = world.start_fake(name, FakeServer(service.app))
    server.service = service
    return server


def start_google(world) -> FakeGoogle:
    google = FakeGoogle()
    server = _serve(world, "google", google)
    google.url = server.url
    path = world.tmp_path / "google-service-account.json"
    path.write_text(json.dumps(google.service_account_info()))
    world.set("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    world.set("GOOGLE_TTS_BASE_URL", server.url)
    world.set("GOOGLE_TOKEN_URI", f"{server.url}/token")
    return google


def start_azure(world) -> FakeAzure:
    azure = FakeAzure(api_key=AZURE_KEY, region=AZURE_REGION)
    server = _serve(world, "azure", azure)
    world.set("AZURE_SPEECH_SUBSCRIPTION_KEY", AZURE_KEY)
    world.set("AZURE_SPEECH_REGION", AZURE_REGION)
    world.set("AZURE_SPEECH_BASE_URL", server.url + "/{region}")
    return azure


def start_cartesia(world) -> FakeCartesia:
    cartesia = FakeCartesia(api_key=CARTESIA_KEY)
    server = _serve(world, "cartesia", cartesia)
    world.set("CARTESIA_API_KEY", CARTESIA_KEY)
    world.set("CARTESIA_BASE_URL", server.url)
    return cartesia


def start_openai(world) -> FakeOpenAI:
    openai = FakeOpenAI(api_key=OPENAI_KEY)
    server = _serve(world, "openai", openai)
    world.set("OPENAI_API_KEY", OPENAI_KEY)
    world.set("OPENAI_BASE_URL", server.url + "/v1")
    return openai


STARTERS = {
    "deepgram": start_deepgram,
    "elevenlabs": start_elevenlabs,
    "google": start_google,
    "azure": start_azure,
    "cartesia": start_cartesia,
    "openai": start_openai,
    "local": lambda world: None,
}
NAMES = {"Google": "google", "Azure": "azure", "Cartesia": "cartesia", "OpenAI": "openai"}


# --- Given -----------------------------------------------------------------------------------------


@given(parsers.parse('the provider "{provider}" is available'))
def provider_available(world, provider):
    STARTERS[provider](world)


@given("every provider is available")
def every_provider_available(world):
    for start in STARTERS.values():
        start(world)


@given(parsers.re(r"(?P<name>Google|Azure|Cartesia|OpenAI) is available"))
def named_provider_available(world, name):
    STARTERS[NAMES[name]](world)


@given(parsers.parse('Azure also accepts the key "{key}" in the region "{region}"'))
def azure_tenant_key(world, key, region):
    fake(world, "azure").keys[key] = region


@given(parsers.parse('the server\'s Google credentials are the file "{path}"'))
def google_server_credentials(world, path):
    world.set("GOOGLE_APPLICATION_CREDENTIALS", path)


# --- When ------------------------------------------------------------------------------------------


@when(parsers.parse('I ask "{provider}" to speak "{text}" as "{audio_format}" at {rate:d} Hz'))
def ask_provider_format(world, provider, text, audio_format, rate):
    world.request(
        "POST",
        "/speak",
        json={
            "text": text,
            "tts_config": {"provider": provider, "model": "", "audio_format": audio_format, "sample_rate": rate},
        },
    )


@when(parsers.parse('I ask "{provider}" to speak "{text}" with the credentials {auth}'))
def ask_provider_with_auth(world, provider, text, auth):
    world.request(
        "POST",
        "/speak",
        json={"text": text, "tts_config": {"provider": provider, "model": "", "auth": json.loads(auth)}},
    )


# --- Then ------------------------------------------------------------------------------------------


@then(parsers.parse('I receive "{audio_format}" audio at {rate:d} Hz'))
def audio_of_format(world, audio_format, rate):
    """The bytes are the format asked for (decoded as such, at that rate), carry sound, and last."""
    response = world.response
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == CONTENT_TYPES[audio_format], response.headers
    data = response.data
    if audio_format == "linear16":
        assert data[:4] != b"RIFF"
        samples = np.frombuffer(data, dtype="<i2")
    elif audio_format == "mulaw":
        samples, _ = soundfile.read(
            io.BytesIO(data), dtype="int16", format="RAW", subtype="ULAW", samplerate=rate, channels=1
        )
    else:
        samples, actual_rate = soundfile.read(io.BytesIO(data), dtype="int16")
        assert actual_rate == rate
    samples = samples.astype(np.float64)
    assert samples.size >= rate * 0.15, samples.size
    assert np.sqrt(np.mean(samples**2)) > 500, "audio is (nearly) silent"


@then(parsers.parse('Azure was called in the region "{region}" with the key "{key}"'))
def azure_called(world, region, key):
    call = fake(world, "azure").speak_calls[-1]
    assert (call["region"], call["key"]) == (region, key)


@then(parsers.parse('Deepgram was called with the key "{key}"'))
def deepgram_called_with(world, key):
    assert fake(world, "deepgram").speak_calls[-1]["authorization"] == f"Token {key}"


@then("no provider was called")
def no_provider_called(world):
    for name, server in world.fakes.items():
        assert server.service.speak_calls == [], name


@then(parsers.parse('the response header "{name}" is "{value}"'))
def response_header(world, name, value):
    assert world.response.headers.get(name) == value, dict(world.response.headers)
