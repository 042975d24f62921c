"""`speak_rest` of the official Python SDK (`sayna-client`, unmodified) with every provider, and the shape
the Node SDK's `speakRest` sends, against our app served live with every provider behind its fake.

The Node SDK (`@sayna-ai/node-sdk`) is not on the npm registry this machine reaches (`npm view` answers
404), so it cannot be installed here; its request shape (only the keys the caller set, as the SDK's
`speakRest` builds it) is replayed with plain HTTP instead."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import requests
import soundfile
from sayna_client import SaynaClient, TTSConfig
from sayna_client.errors import SaynaValidationError
from sayna_client.types import ApiKeyAuth, AzureAuth, GoogleAuth

from tests.fakes.azure import FakeAzure
from tests.fakes.cartesia import FakeCartesia
from tests.fakes.deepgram import FakeDeepgram
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.google import FakeGoogle
from tests.fakes.openai import FakeOpenAI
from tests.fakes.server import FakeServer
from tests.sdk.client import run_with_client

API_KEY = "sdk-providers-secret-1"
PROVIDERS = ["local", "deepgram", "elevenlabs", "google", "azure", "cartesia", "openai"]


@pytest.fixture(scope="module")
def fakes():
    services = {
        "deepgram": FakeDeepgram(api_key="dg-sdk"),
        "elevenlabs": FakeElevenLabs(api_key="el-sdk"),
        "google": FakeGoogle(),
        "azure": FakeAzure(api_key="az-sdk", region="westeurope"),
        "cartesia": FakeCartesia(api_key="ca-sdk"),
        "openai": FakeOpenAI(api_key="sk-sdk-0123456789"),
    }
    servers = {name: FakeServer(service.app).start() for name, service in services.items()}
    for name, service in services.items():
        service.url = servers[name].url
    yield services
    for server in servers.values():
        server.stop()


@pytest.fixture
def live_server(make_app, fakes, tmp_path):
    credentials = tmp_path / "google.json"
    credentials.write_text(json.dumps(fakes["google"].service_account_info()))
    app = make_app(
        AUTH_REQUIRED="true",
        AUTH_API_SECRET=API_KEY,
        DEEPGRAM_API_KEY="dg-sdk",
        DEEPGRAM_BASE_URL=fakes["deepgram"].url,
        ELEVENLABS_API_KEY="el-sdk",
        ELEVENLABS_BASE_URL=fakes["elevenlabs"].url,
        GOOGLE_APPLICATION_CREDENTIALS=str(credentials),
        GOOGLE_TTS_BASE_URL=fakes["google"].url,
        GOOGLE_TOKEN_URI=f"{fakes['google'].url}/token",
        AZURE_SPEECH_SUBSCRIPTION_KEY="az-sdk",
        AZURE_SPEECH_REGION="westeurope",
        AZURE_SPEECH_BASE_URL=fakes["azure"].url + "/{region}",
        CARTESIA_API_KEY="ca-sdk",
        CARTESIA_BASE_URL=fakes["cartesia"].url,
        OPENAI_API_KEY="sk-sdk-0123456789",
        OPENAI_BASE_URL=fakes["openai"].url + "/v1",
    )
    with FakeServer(app) as server:
        yield server


def _run(url: str, scenario):
    return run_with_client(url, API_KEY, scenario)


def _assert_wav(audio: bytes, headers: dict, provider: str) -> None:
    assert headers["Content-Type"] == "audio/wav"
    # a miss from a streaming provider comes chunked, as it is spoken: no length is known before the end
    assert int(headers["Content-Length"]) == len(audio) if "Content-Length" in headers else headers["x-cache"] == "MISS"
    assert (headers["x-audio-format"], headers["x-sample-rate"], headers["x-provider"]) == ("wav", "16000", provider)
    samples, rate = soundfile.read(io.BytesIO(audio), dtype="int16")
    assert rate == 16000 and samples.size > 3000 and np.abs(samples).max() > 1000


@pytest.mark.parametrize("provider", PROVIDERS)
def test_python_sdk_speak_rest_with_each_provider(live_server, provider):
    async def scenario(client: SaynaClient):
        config = TTSConfig(provider=provider, model="", audio_format="wav", sample_rate=16000)
        return await client.speak_rest("Your call is important to us", config)

    audio, headers = _run(live_server.url, scenario)
    _assert_wav(audio, headers, provider)


def test_python_sdk_get_voices_lists_all_seven(live_server):
    voices = _run(live_server.url, lambda client: client.get_voices())
    assert list(voices) == PROVIDERS
    assert all(voices[name] for name in PROVIDERS)


def test_python_sdk_request_credentials_with_each_auth_shape(live_server, fakes, tmp_path):
    """ApiKeyAuth, AzureAuth, and GoogleAuth with a file path, which the SDK reads and sends as an object."""
    fakes["azure"].keys["az-tenant"] = "eastus"
    request_credentials = tmp_path / "tenant-google.json"
    request_credentials.write_text(json.dumps(fakes["google"].service_account_info()))
    configs = [
        ("cartesia", ApiKeyAuth(api_key="ca-sdk")),
        ("azure", AzureAuth(api_key="az-tenant", region="eastus")),
        ("google", GoogleAuth(credentials=str(request_credentials))),
    ]

    async def scenario(client: SaynaClient):
        return [
            await client.speak_rest(
                "Hello there, tenant",
                TTSConfig(provider=provider, model="", audio_format="wav", sample_rate=16000, auth=auth),
            )
            for provider, auth in configs
        ]

    for (provider, _), (audio, headers) in zip(configs, _run(live_server.url, scenario), strict=True):
        _assert_wav(audio, headers, provider)
    assert fakes["azure"].speak_calls[-1]["region"] == "eastus"


def test_python_sdk_sees_upstreams_message_for_incomplete_azure_auth(live_server):
    async def scenario(client: SaynaClient):
        # the SDK's own AzureAuth needs both fields: send the dict form, as an older client would
        await client._http_client.post(
            "/speak",
            json_data={
                "text": "Hello",
                "tts_config": {"provider": "microsoft-azure", "model": "", "auth": {"api_key": "k"}},
            },
        )

    with pytest.raises(SaynaValidationError, match="Auth field 'region' is required"):
        _run(live_server.url, scenario)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_node_sdk_speak_rest_shape_with_each_provider(live_server, provider):
    """speakRest sends only the keys the caller set and reads the body as bytes."""
    response = requests.post(
        f"{live_server.url}/speak",
        timeout=30,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        data=json.dumps(
            {
                "text": "Your call is important to us",
                "tts_config": {"provider": provider, "model": "", "audio_format": "wav", "sample_rate": 16000},
            }
        ),
    )
    assert response.status_code == 200, response.text
    _assert_wav(response.content, dict(response.headers), provider)


def test_node_sdk_google_credentials_string_is_accepted(live_server, fakes):
    """The Node SDK sends a Google credentials string as it is (JSON text here); the server parses it."""
    text = json.dumps(fakes["google"].service_account_info())
    response = requests.post(
        f"{live_server.url}/speak",
        timeout=30,
        headers={"Authorization": f"Bearer {API_KEY}"},
        json={
            "text": "Hello there",
            "tts_config": {
                "provider": "google",
                "model": "",
                "audio_format": "wav",
                "sample_rate": 16000,
                "auth": {"credentials": text},
            },
        },
    )
    assert response.status_code == 200, response.text
    _assert_wav(response.content, dict(response.headers), "google")
