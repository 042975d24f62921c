"""Google, Azure, Cartesia and OpenAI providers against their fake servers, over real HTTP: what is sent on
the wire, what comes back, and how credentials and failures turn into our errors."""

from __future__ import annotations

import io
import json
import threading
from xml.etree import ElementTree as ET

import numpy as np
import pytest
import soundfile

from app.errors import BadRequest, NotConfigured, UpstreamError
from app.services.tts.azure import AzureProvider
from app.services.tts.cartesia import API_VERSION, CartesiaProvider
from app.services.tts.google import GoogleProvider
from app.services.tts.openai import OpenAIProvider
from app.services.tts.request import SpeechRequest
from app.settings import TTSSettings
from tests.fakes.azure import FakeAzure
from tests.fakes.cartesia import VOICES as CARTESIA_VOICES
from tests.fakes.cartesia import FakeCartesia
from tests.fakes.google import FakeGoogle
from tests.fakes.openai import FakeOpenAI
from tests.fakes.server import FakeServer


@pytest.fixture(scope="module")
def servers():
    """One server per fake for the module; each test gets a fresh fake behind it."""
    fakes: dict = {}

    def dispatch(name):
        return lambda environ, start_response: fakes[name].app(environ, start_response)

    with (
        FakeServer(dispatch("google")) as g,
        FakeServer(dispatch("azure")) as a,
        FakeServer(dispatch("cartesia")) as c,
        FakeServer(dispatch("openai")) as o,
    ):
        yield fakes, {"google": g.url, "azure": a.url, "cartesia": c.url, "openai": o.url}


@pytest.fixture
def google_fake(servers):
    fakes, urls = servers
    fake = fakes["google"] = FakeGoogle()
    fake.url = urls["google"]
    return fake


@pytest.fixture
def google(servers, google_fake, tmp_path):
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(google_fake.service_account_info()))
    provider = GoogleProvider(
        TTSSettings(
            google_credentials_path=str(path),
            google_base_url=google_fake.url,
            google_token_uri=f"{google_fake.url}/token",
        )
    )
    yield provider
    provider.close()


@pytest.fixture
def azure(servers):
    fakes, urls = servers
    fake = fakes["azure"] = FakeAzure(api_key="az-key", region="westeurope")
    provider = AzureProvider(
        TTSSettings(
            azure_speech_subscription_key="az-key",
            azure_speech_region="westeurope",
            azure_speech_base_url=urls["azure"] + "/{region}",
        )
    )
    provider.fake = fake
    yield provider
    provider.close()


@pytest.fixture
def cartesia(servers):
    fakes, urls = servers
    fake = fakes["cartesia"] = FakeCartesia(api_key="ca-key")
    provider = CartesiaProvider(TTSSettings(cartesia_api_key="ca-key", cartesia_base_url=urls["cartesia"]))
    provider.fake = fake
    yield provider
    provider.close()


@pytest.fixture
def openai(servers):
    fakes, urls = servers
    fake = fakes["openai"] = FakeOpenAI(api_key="sk-key-0123456789")
    provider = OpenAIProvider(TTSSettings(openai_api_key="sk-key-0123456789", openai_base_url=urls["openai"] + "/v1"))
    provider.fake = fake
    yield provider
    provider.close()


def _request(provider, **overrides) -> SpeechRequest:
    voice, model = provider.resolve_voice(overrides.pop("voice_id", None), overrides.pop("model", None))
    values = dict(
        text="Hello there, this is a test",
        provider=provider.slug,
        voice_id=voice,
        model=model,
        audio_format="linear16",
        sample_rate=24_000,
    )
    values.update(overrides)
    return SpeechRequest(**values)


def _decoded(result, audio_format: str) -> tuple[np.ndarray, int]:
    if audio_format == "linear16":
        return np.frombuffer(result.data, dtype="<i2"), result.sample_rate
    if audio_format == "mulaw":
        samples, _ = soundfile.read(
            io.BytesIO(result.data),
            dtype="int16",
            format="RAW",
            subtype="ULAW",
            samplerate=result.sample_rate,
            channels=1,
        )
        return samples, result.sample_rate
    return soundfile.read(io.BytesIO(result.data), dtype="int16")


FORMATS = [
    ("linear16", 24_000),
    ("linear16", 16_000),
    ("linear16", 32_000),
    ("wav", 24_000),
    ("wav", 8_000),
    ("mp3", 24_000),
    ("mp3", 44_100),
    ("ogg", 48_000),
    ("ogg", 16_000),
    ("mulaw", 8_000),
    ("flac", 22_050),
]


@pytest.mark.parametrize("name", ["google", "azure", "cartesia", "openai"])
@pytest.mark.parametrize("audio_format, rate", FORMATS)
def test_every_format_and_rate_comes_back_as_asked(request, name, audio_format, rate):
    provider = request.getfixturevalue(name)
    result = provider.synthesize(_request(provider, audio_format=audio_format, sample_rate=rate))
    samples, actual_rate = _decoded(result, audio_format)
    assert (result.audio_format, result.sample_rate, actual_rate) == (audio_format, rate, rate)
    assert samples.size > rate * 0.3 and np.abs(samples.astype(np.int32)).max() > 1000
    if audio_format == "linear16":
        assert result.data[:4] != b"RIFF"  # a WAV header never leaks into raw PCM
    assert abs(result.duration_ms - samples.size * 1000 / rate) < 30
    # the fakes speak 30 ms per character: audio at another rate than labelled would be off by far more
    expected_ms = len("Hello there, this is a test") * 30
    assert abs(samples.size * 1000 / rate - expected_ms) < expected_ms * 0.1, (samples.size, rate)


# --- google ---------------------------------------------------------------------------------------------


def test_google_sends_upstreams_body_with_a_token_from_the_credentials_token_uri(google, google_fake):
    google.synthesize(
        _request(google, voice_id="en-GB-Standard-A", speaking_rate=1.25, sample_rate=16_000, text="Hello")
    )
    call = google_fake.speak_calls[-1]
    assert json.loads(call["body"]) == {
        "input": {"text": "Hello"},
        "voice": {"languageCode": "en-GB", "name": "en-GB-Standard-A"},
        "audioConfig": {"audioEncoding": "LINEAR16", "speakingRate": 1.25, "sampleRateHertz": 16000},
    }
    assert call["authorization"].startswith("Bearer ya29.")
    assert google_fake.token_requests == 1


def test_google_keeps_its_token_until_it_nears_expiry(google, google_fake):
    google.synthesize(_request(google))
    google.synthesize(_request(google))
    assert google_fake.token_requests == 1
    # google-auth refreshes a token that expires within its threshold (a few minutes) before using it
    for credentials in google._tokens._by_value.values():
        credentials.value.expiry = credentials.value.expiry.replace(year=2000)
    google.synthesize(_request(google))
    assert google_fake.token_requests == 2


def test_google_tokens_are_fetched_once_under_concurrency(google, google_fake):
    barrier = threading.Barrier(6)
    errors = []

    def speak():
        barrier.wait()
        try:
            google.synthesize(_request(google))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=speak) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and google_fake.token_requests == 1


def test_google_wav_keeps_its_header_and_mulaw_loses_it(google):
    wav = google.synthesize(_request(google, audio_format="wav"))
    assert wav.data[:4] == b"RIFF"
    mulaw = google.synthesize(_request(google, audio_format="mulaw", sample_rate=8_000))
    assert mulaw.data[:4] != b"RIFF" and round(len(mulaw.data) * 1000 / 8000) == mulaw.duration_ms


def test_google_authorized_user_credentials_name_their_quota_project(servers, google_fake):
    provider = GoogleProvider(TTSSettings(google_base_url=google_fake.url, google_token_uri=f"{google_fake.url}/token"))
    info = google_fake.authorized_user_info()
    provider.synthesize(_request(provider, auth={"credentials": info}))
    provider.close()
    assert google_fake.speak_calls[-1]["user_project"] == google_fake.project_id


@pytest.mark.parametrize(
    "credentials, message",
    [
        ("/definitely/missing/request-creds.json", "Credential file not found: /definitely/missing/request-creds.json"),
        ("../secrets/key.json", "must not contain '..'"),
        ("{not json", "cannot be parsed"),
        ({"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}, "project_id"),
        ({"type": "service_account", "project_id": "p"}, "missing fields"),
        ({"type": "external_account"}, "type 'external_account' is not supported"),
    ],
)
def test_google_unusable_request_credentials_are_the_callers_400(google, credentials, message):
    with pytest.raises(BadRequest) as caught:
        google.synthesize(_request(google, auth={"credentials": credentials}))
    assert message in caught.value.message and caught.value.code == "invalid_provider_auth"


def test_google_request_credentials_never_choose_the_token_endpoint(google, google_fake, servers):
    _, urls = servers
    elsewhere = google_fake.service_account_info(token_uri=urls["openai"] + "/token")  # a URL the caller chose
    google.synthesize(_request(google, auth={"credentials": elsewhere}))
    assert google_fake.token_requests == 1  # the token came from GOOGLE_TOKEN_URI


def test_google_unusable_server_credentials_are_our_500(google_fake):
    provider = GoogleProvider(
        TTSSettings(google_credentials_path="/definitely/missing/server-creds.json", google_base_url=google_fake.url)
    )
    with pytest.raises(NotConfigured, match="Credential file not found: /definitely/missing/server-creds.json"):
        provider.synthesize(_request(provider))


def test_google_refused_request_credentials_are_a_400_without_the_key(google, google_fake):
    other = FakeGoogle()  # a key pair the token endpoint does not know
    other.url = google_fake.url
    info = other.service_account_info(client_email=google_fake.client_email)
    with pytest.raises(BadRequest) as caught:
        google.synthesize(_request(google, auth={"credentials": info}))
    assert caught.value.code == "provider_auth_failed"
    assert "Invalid JWT Signature" in caught.value.message and "PRIVATE KEY" not in caught.value.message


def test_google_refused_grant_echoed_by_the_endpoint_never_reaches_our_message(google, google_fake):
    google_fake.echo_refused_grant = True
    info = google_fake.authorized_user_info(
        refresh_token="1//tenant-refresh-token-xyz", client_secret="tenant-client-secret-abc"
    )
    with pytest.raises(BadRequest) as caught:
        google.synthesize(_request(google, auth={"credentials": info}))
    assert "Token has been expired or revoked" in caught.value.message
    assert "tenant-refresh-token-xyz" not in caught.value.message
    assert "tenant-client-secret-abc" not in caught.value.message


def test_google_errors_in_its_shape_become_ours(google):
    with pytest.raises(BadRequest, match="INVALID_ARGUMENT: Voice 'en-US-Nobody-Z' does not exist"):
        google.synthesize(_request(google, voice_id="en-US-Nobody-Z"))


def test_google_rewritten_credentials_file_is_read_again(google, google_fake, tmp_path):
    google.synthesize(_request(google))
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(google_fake.service_account_info(client_email="someone-else@example.com")) + " ")
    with pytest.raises(UpstreamError, match="account not found"):
        google.synthesize(_request(google))


def test_google_voices_map_names_languages_accents_and_genders(google):
    voices = {v["id"]: v for v in google.list_voices()}
    wavenet = voices["en-US-Wavenet-D"]
    assert (wavenet["name"], wavenet["language"], wavenet["accent"], wavenet["gender"]) == (
        "Wavenet D",
        "English",
        "American",
        "Male",
    )
    assert (voices["cmn-CN-Wavenet-A"]["language"], voices["cmn-CN-Wavenet-A"]["accent"]) == (
        "Chinese",
        "Mainland China",
    )
    assert voices["en-GB-Standard-A"]["sample"] == ""


def test_google_without_credentials_is_not_configured():
    provider = GoogleProvider(TTSSettings())
    assert not provider.configured
    with pytest.raises(NotConfigured, match="Missing server auth for provider google"):
        provider.check_auth({})


# --- azure ----------------------------------------------------------------------------------------------


def test_azure_sends_escaped_ssml_with_prosody_and_the_exact_output_format(azure):
    azure.synthesize(
        _request(
            azure,
            text="Tom & Jerry's <show>",
            speaking_rate=1.5,
            voice_id="en-GB-RyanNeural",
            audio_format="mp3",
            sample_rate=24_000,
        )
    )
    call = azure.fake.speak_calls[-1]
    assert call["output_format"] == "audio-24khz-96kbitrate-mono-mp3" and call["region"] == "westeurope"
    assert call["user_agent"] and call["key"] == "az-key"
    root = ET.fromstring(call["body"])
    voice = root.find("{http://www.w3.org/2001/10/synthesis}voice")
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB" and voice.get("name") == "en-GB-RyanNeural"
    prosody = voice.find("{http://www.w3.org/2001/10/synthesis}prosody")
    assert prosody.get("rate") == "+50%" and prosody.text == "Tom & Jerry's <show>"


@pytest.mark.parametrize(
    "audio_format, rate, output_format",
    [
        ("linear16", 22_050, "raw-22050hz-16bit-mono-pcm"),
        ("wav", 44_100, "riff-44100hz-16bit-mono-pcm"),
        ("linear16", 32_000, "raw-44100hz-16bit-mono-pcm"),  # no 32 kHz at Azure: converted, never mislabelled
        ("ogg", 24_000, "ogg-24khz-16bit-mono-opus"),
        ("mulaw", 8_000, "raw-8khz-8bit-mono-mulaw"),
    ],
)
def test_azure_output_format_follows_format_and_rate(azure, audio_format, rate, output_format):
    result = azure.synthesize(_request(azure, audio_format=audio_format, sample_rate=rate))
    assert azure.fake.speak_calls[-1]["output_format"] == output_format and result.sample_rate == rate


def test_azure_request_credentials_go_to_their_own_region(azure):
    azure.fake.keys["tenant-key"] = "eastus"
    azure.synthesize(_request(azure, auth={"api_key": "tenant-key", "region": "EastUS"}))
    assert azure.fake.speak_calls[-1]["region"] == "eastus"
    with pytest.raises(BadRequest) as caught:
        azure.synthesize(_request(azure, auth={"api_key": "tenant-key", "region": "westus"}))
    assert caught.value.code == "provider_auth_failed" and "tenant-key" not in caught.value.message


@pytest.mark.parametrize("region", ["evil.example.com/x#", "east us", "a"])
def test_azure_region_must_be_a_region_name(azure, region):
    with pytest.raises(BadRequest, match="Auth field 'region' must be an Azure region name"):
        azure.check_auth({"api_key": "k", "region": region})


def test_azure_voices(azure):
    voices = {v["id"]: v for v in azure.list_voices()}
    ryan = voices["en-GB-RyanNeural"]
    assert (ryan["name"], ryan["gender"], ryan["language"], ryan["accent"]) == ("Ryan", "Male", "English", "British")
    assert voices["de-DE-KatjaNeural"]["sample_rates"] == [48000]


def test_azure_server_key_refused_is_our_500(azure):
    azure.api_key = "az-revoked"
    with pytest.raises(UpstreamError) as caught:
        azure.synthesize(_request(azure))
    assert caught.value.code == "provider_auth_failed" and caught.value.status == 500


# --- cartesia -------------------------------------------------------------------------------------------


def test_cartesia_sends_the_version_and_upstreams_body(cartesia):
    cartesia.synthesize(_request(cartesia, text="Hi there", audio_format="wav", sample_rate=44_100))
    call = cartesia.fake.speak_calls[-1]
    assert call["version"] == API_VERSION and call["authorization"] == "Bearer ca-key"
    assert json.loads(call["body"]) == {
        "model_id": "sonic-3",
        "transcript": "Hi there",
        "voice": {"mode": "id", "id": "694f9389-aac1-45b6-b726-9d9369183238"},
        "output_format": {"container": "wav", "encoding": "pcm_s16le", "sample_rate": 44100},
        "language": "en",
    }


def test_cartesia_lists_every_page_of_voices(cartesia):
    voices = cartesia.list_voices()
    assert [v["id"] for v in voices] == [v["id"] for v in CARTESIA_VOICES]
    assert [c["query"].get("starting_after") for c in cartesia.fake.calls] == [None, CARTESIA_VOICES[99]["id"]]
    sarah = voices[0]
    assert (sarah["name"], sarah["gender"], sarah["language"]) == ("Sarah", "Female", "English")
    assert sarah["sample"].startswith("https://")


def test_cartesia_error_json_is_reported(cartesia):
    with pytest.raises(BadRequest, match="Voice not found"):
        cartesia.synthesize(_request(cartesia, voice_id="no-such-voice"))


# --- openai ---------------------------------------------------------------------------------------------


def test_openai_sends_model_voice_format_speed_and_instructions(openai):
    openai.synthesize(
        _request(
            openai,
            voice_id="nova",
            speaking_rate=1.2,
            audio_format="mp3",
            voice_settings={"instructions": "Speak warmly"},
        )
    )
    call = openai.fake.calls[-1]
    assert call["authorization"] == "Bearer sk-key-0123456789"
    assert json.loads(call["body"]) == {
        "model": "gpt-4o-mini-tts",
        "input": "Hello there, this is a test",
        "voice": "nova",
        "response_format": "mp3",
        "speed": 1.2,
        "instructions": "Speak warmly",
    }


def test_openai_refuses_instructions_for_tts_1_before_calling(openai):
    with pytest.raises(BadRequest, match="instructions"):
        openai.check(_request(openai, model="tts-1", voice_settings={"instructions": "Whisper"}))


def test_openai_wrong_request_key_is_a_400_without_the_key(openai):
    with pytest.raises(BadRequest) as caught:
        openai.synthesize(_request(openai, auth={"api_key": "sk-wrong-key-777777"}))
    assert caught.value.code == "provider_auth_failed" and "sk-wrong-key-777777" not in caught.value.message


def test_openai_compatible_server_without_a_key_is_configured(servers):
    _, urls = servers
    provider = OpenAIProvider(TTSSettings(openai_base_url=urls["openai"] + "/v1"))
    assert provider.configured and OpenAIProvider(TTSSettings()).configured is False
    assert {v["id"] for v in provider.list_voices()} >= {"alloy", "nova", "cedar"}
