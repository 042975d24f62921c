"""The official Python SDK (`sayna-client`, unmodified) against our app served live on a real port:
health, get_voices and speak_rest, with the offline voice and with Deepgram behind the fake."""

from __future__ import annotations

import io

import pytest
import soundfile
from sayna_client import SaynaClient, TTSConfig
from sayna_client.errors import SaynaServerError, SaynaValidationError

from tests.fakes.deepgram import FakeDeepgram
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.server import FakeServer
from tests.sdk.client import run_with_client

API_KEY = "sdk-speech-secret-1"


@pytest.fixture
def providers():
    deepgram, elevenlabs = FakeDeepgram(api_key="dg-sdk"), FakeElevenLabs(api_key="el-sdk")
    with FakeServer(deepgram.app) as dg, FakeServer(elevenlabs.app) as el:
        deepgram.url, elevenlabs.url = dg.url, el.url
        yield deepgram, elevenlabs


@pytest.fixture
def live_server(make_app, providers):
    deepgram, elevenlabs = providers
    app = make_app(
        AUTH_REQUIRED="true",
        AUTH_API_SECRET=API_KEY,
        AUTH_API_SECRET_ID="acme",
        DEEPGRAM_API_KEY="dg-sdk",
        DEEPGRAM_BASE_URL=deepgram.url,
        ELEVENLABS_API_KEY="el-sdk",
        ELEVENLABS_BASE_URL=elevenlabs.url,
    )
    with FakeServer(app) as server:
        yield server


def _run(url: str, scenario):
    return run_with_client(url, API_KEY, scenario)


def test_health_and_voices(live_server):
    async def scenario(client: SaynaClient):
        return await client.health(), await client.get_voices()

    health, voices = _run(live_server.url, scenario)
    assert health.status == "ok"
    assert list(voices) == ["local", "deepgram", "elevenlabs"]
    by_id = {voice.id: voice for voice in voices["deepgram"]}
    assert by_id["aura-2-zeus-en"].gender == "Male"
    assert any(voice.id == "gmw/en-US" for voice in voices["local"])
    assert voices["elevenlabs"][0].name == "Rachel"


def test_speak_rest_with_the_offline_voice_returns_audio_and_headers(live_server):
    async def scenario(client: SaynaClient):
        config = TTSConfig(provider="local", model="", audio_format="wav", sample_rate=16000)
        return await client.speak_rest("Welcome to Sayna", config)

    audio, headers = _run(live_server.url, scenario)
    assert headers["Content-Type"] == "audio/wav"
    assert int(headers["Content-Length"]) == len(audio)
    assert (headers["x-audio-format"], headers["x-sample-rate"]) == ("wav", "16000")
    assert (headers["x-provider"], headers["x-cache"]) == ("local", "MISS")
    samples, rate = soundfile.read(io.BytesIO(audio), dtype="int16")
    assert rate == 16000 and samples.size > 8000


def test_speak_rest_with_deepgram_is_cached(live_server, providers):
    deepgram, _ = providers

    async def scenario(client: SaynaClient):
        config = TTSConfig(provider="deepgram", voice_id="aura-2-zeus-en", model="")
        first = await client.speak_rest("Your call is important to us", config)
        second = await client.speak_rest("Your call is important to us", config)
        return first, second

    (audio, headers), (again, headers_again) = _run(live_server.url, scenario)
    assert headers["Content-Type"] == "audio/pcm" and headers["x-sample-rate"] == "24000"
    assert headers["x-voice-id"] == "aura-2-zeus-en"
    assert (headers["x-cache"], headers_again["x-cache"]) == ("MISS", "HIT")
    assert again == audio
    assert len(deepgram.speak_calls) == 1


def test_speak_rest_errors_reach_the_sdk_user(live_server):
    async def blank(client: SaynaClient):
        await client.speak_rest("   ", TTSConfig(provider="local", model=""))

    with pytest.raises(SaynaValidationError, match="Text cannot be empty"):
        _run(live_server.url, blank)

    async def broken_provider(client: SaynaClient):
        await client.speak_rest(
            "Hello",
            TTSConfig(
                provider="elevenlabs", model="", voice_id="21m00Tcm4TlvDq8ikWAM", auth={"api_key": "el-wrong-key-77"}
            ),
        )

    # credentials the request brought and the provider refused are the caller's error (400), as upstream
    with pytest.raises(SaynaValidationError, match="elevenlabs refused the request's credentials") as caught:
        _run(live_server.url, broken_provider)
    assert "el-wrong-key-77" not in str(caught.value)

    async def unconfigured(client: SaynaClient):
        await client.speak_rest("Hello", TTSConfig(provider="cartesia", model=""))

    with pytest.raises(SaynaServerError, match="Missing server auth for provider cartesia"):
        _run(live_server.url, unconfigured)
