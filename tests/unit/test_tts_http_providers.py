"""Deepgram and ElevenLabs providers against the fake servers, over real HTTP."""

import io

import pytest
import soundfile

from app.errors import BadRequest, NotConfigured, UpstreamError
from app.services.tts.deepgram import DeepgramProvider
from app.services.tts.elevenlabs import ElevenLabsProvider
from app.services.tts.request import SpeechRequest
from app.settings import TTSSettings
from tests.fakes.deepgram import FakeDeepgram
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.server import FakeServer, unused_port_url


# One server per fake for the whole module (stopping a server costs half a second); each test gets a
# fresh fake behind it.
@pytest.fixture(scope="module")
def servers():
    fakes = {"deepgram": FakeDeepgram(api_key="dg-key"), "elevenlabs": FakeElevenLabs(api_key="el-key")}

    def dispatch(name):
        return lambda environ, start_response: fakes[name].app(environ, start_response)

    with FakeServer(dispatch("deepgram")) as dg, FakeServer(dispatch("elevenlabs")) as el:
        yield fakes, {"deepgram": dg.url, "elevenlabs": el.url}


@pytest.fixture
def deepgram(servers):
    fakes, urls = servers
    fakes["deepgram"] = FakeDeepgram(api_key="dg-key")
    provider = DeepgramProvider(
        TTSSettings(deepgram_api_key="dg-key", deepgram_base_url=urls["deepgram"], max_retries=2)
    )
    provider.fake = fakes["deepgram"]
    yield provider
    provider.close()


@pytest.fixture
def elevenlabs(servers):
    fakes, urls = servers
    fakes["elevenlabs"] = FakeElevenLabs(api_key="el-key")
    provider = ElevenLabsProvider(TTSSettings(elevenlabs_api_key="el-key", elevenlabs_base_url=urls["elevenlabs"]))
    provider.fake = fakes["elevenlabs"]
    yield provider
    provider.close()


def _request(provider, **overrides) -> SpeechRequest:
    voice, model = provider.resolve_voice(overrides.pop("voice_id", None), overrides.pop("model", None))
    values = dict(
        text="Hello there",
        provider=provider.slug,
        voice_id=voice,
        model=model,
        audio_format="linear16",
        sample_rate=24_000,
    )
    values.update(overrides)
    return SpeechRequest(**values)


@pytest.mark.parametrize(
    "audio_format, rate, query",
    [
        ("linear16", 24_000, {"encoding": "linear16", "container": "none", "sample_rate": "24000"}),
        ("wav", 8_000, {"encoding": "linear16", "container": "wav", "sample_rate": "8000"}),
        ("mulaw", 8_000, {"encoding": "mulaw", "container": "none", "sample_rate": "8000"}),
        ("flac", 22_050, {"encoding": "flac", "sample_rate": "22050"}),
        ("mp3", 22_050, {"encoding": "mp3"}),
        ("ogg", 48_000, {"encoding": "opus"}),
        # not produced by Deepgram at these rates: raw PCM at the next rate up, converted by us
        ("mp3", 44_100, {"encoding": "linear16", "container": "none", "sample_rate": "48000"}),
        ("wav", 22_050, {"encoding": "linear16", "container": "none", "sample_rate": "24000"}),
        ("ogg", 16_000, {"encoding": "linear16", "container": "none", "sample_rate": "16000"}),
    ],
)
def test_deepgram_is_asked_explicitly_and_the_audio_matches_the_request(deepgram, audio_format, rate, query):
    result = deepgram.synthesize(_request(deepgram, audio_format=audio_format, sample_rate=rate))
    assert deepgram.fake.speak_calls[-1]["query"] == {"model": "aura-2-thalia-en", **query}
    assert (result.audio_format, result.sample_rate) == (audio_format, rate)
    if audio_format in ("wav", "flac", "ogg", "mp3"):
        assert soundfile.info(io.BytesIO(result.data)).samplerate == rate
    assert result.duration_ms > 200


def test_deepgram_speed_is_sent_only_when_not_normal(deepgram):
    deepgram.synthesize(_request(deepgram, speaking_rate=1.2))
    assert deepgram.fake.speak_calls[-1]["query"]["speed"] == "1.2"
    deepgram.synthesize(_request(deepgram))
    assert "speed" not in deepgram.fake.speak_calls[-1]["query"]


def test_deepgram_model_wins_over_voice_id_as_upstream(deepgram):
    assert deepgram.resolve_voice("aura-2-zeus-en", "aura-asteria-en") == ("aura-asteria-en", "aura-asteria-en")
    assert deepgram.resolve_voice("aura-2-zeus-en", None) == ("aura-2-zeus-en", "aura-2-zeus-en")


def test_deepgram_retries_busy_answers_then_succeeds(deepgram):
    deepgram.fake.fail_next = [429, 503]
    deepgram.synthesize(_request(deepgram))
    assert len(deepgram.fake.speak_calls) == 3


def test_deepgram_gives_up_after_the_retries(deepgram):
    deepgram.fake.fail_next = [503] * 5
    with pytest.raises(UpstreamError, match=r"deepgram failed \(503\)"):
        deepgram.synthesize(_request(deepgram))
    assert len(deepgram.fake.speak_calls) == 3


def test_deepgram_refusing_the_request_key_is_the_callers_400_and_never_echoes_it(deepgram):
    with pytest.raises(BadRequest) as caught:
        deepgram.synthesize(_request(deepgram, auth={"api_key": "dg-other-key-999"}))
    assert caught.value.code == "provider_auth_failed"
    assert "Invalid credentials" in caught.value.message and "dg-other-key-999" not in caught.value.message


def test_deepgram_refusing_the_server_key_is_our_500(servers):
    fakes, urls = servers
    fakes["deepgram"] = FakeDeepgram(api_key="dg-key")
    provider = DeepgramProvider(TTSSettings(deepgram_api_key="dg-revoked", deepgram_base_url=urls["deepgram"]))
    with pytest.raises(UpstreamError) as caught:
        provider.synthesize(_request(provider))
    provider.close()
    assert caught.value.code == "provider_auth_failed" and caught.value.status == 500


def test_deepgram_without_a_key_is_not_configured():
    provider = DeepgramProvider(TTSSettings(deepgram_base_url=unused_port_url()))
    with pytest.raises(NotConfigured, match="deepgram"):
        provider.synthesize(_request(provider))


def test_deepgram_unreachable(deepgram):
    provider = DeepgramProvider(TTSSettings(deepgram_api_key="k", deepgram_base_url=unused_port_url(), max_retries=0))
    with pytest.raises(UpstreamError) as caught:
        provider.synthesize(_request(provider))
    assert caught.value.code == "provider_unreachable"


def test_deepgram_catalog_maps_models_to_voices(deepgram):
    voices = {v["id"]: v for v in deepgram.list_voices()}
    assert set(voices) == {"aura-2-thalia-en", "aura-2-zeus-en", "aura-asteria-en"}
    assert voices["aura-2-thalia-en"]["gender"] == "Female"
    assert voices["aura-2-zeus-en"]["tags"] == ["masculine", "deep", "trustworthy"]
    assert voices["aura-asteria-en"]["language"] == "en"  # Aura-1's singular "language"
    assert voices["aura-asteria-en"]["sample"] == ""


def test_deepgram_speaking_rate_bounds(deepgram):
    with pytest.raises(BadRequest, match="0.7 to 1.5"):
        deepgram.check(_request(deepgram, speaking_rate=2.0))


@pytest.mark.parametrize(
    "audio_format, rate, output_format",
    [
        ("linear16", 16_000, "pcm_16000"),
        ("wav", 44_100, "wav_44100"),
        ("mulaw", 8_000, "ulaw_8000"),
        ("mp3", 44_100, "mp3_44100_128"),
        ("mp3", 22_050, "mp3_22050_32"),
        ("ogg", 48_000, "opus_48000_64"),
        ("flac", 16_000, "pcm_16000"),
        ("mp3", 16_000, "pcm_16000"),
        ("mulaw", 16_000, "pcm_16000"),
        ("wav", 12_000, "pcm_16000"),
    ],
)
def test_elevenlabs_output_format(elevenlabs, audio_format, rate, output_format):
    result = elevenlabs.synthesize(_request(elevenlabs, audio_format=audio_format, sample_rate=rate))
    call = elevenlabs.fake.speak_calls[-1]
    assert call["query"] == {"output_format": output_format}
    assert call["path"] == "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM"
    assert (result.audio_format, result.sample_rate) == (audio_format, rate)
    assert result.duration_ms > 200


def test_elevenlabs_body_carries_model_and_settings(elevenlabs):
    import json

    elevenlabs.synthesize(_request(elevenlabs, speaking_rate=1.1, voice_settings={"stability": 0.3}))
    body = json.loads(elevenlabs.fake.speak_calls[-1]["body"])
    assert body == {
        "text": "Hello there",
        "model_id": "eleven_multilingual_v2",
        "voice_settings": {"stability": 0.3, "speed": 1.1},
    }


def test_elevenlabs_unknown_voice_settings_are_refused_before_sending(elevenlabs):
    with pytest.raises(BadRequest, match="pitch"):
        elevenlabs.check(_request(elevenlabs, voice_settings={"pitch": 3}))
    assert elevenlabs.fake.speak_calls == []


def test_elevenlabs_text_limit_depends_on_the_model(elevenlabs):
    with pytest.raises(BadRequest, match="5000"):
        elevenlabs.check(_request(elevenlabs, model="eleven_v3", text="x" * 5_001))
    elevenlabs.check(_request(elevenlabs, text="x" * 5_001))


@pytest.mark.parametrize(
    "voice_settings, message",
    [
        (None, "voice_not_found"),
        ({"stability": "very"}, "body.voice_settings.stability: Input should be a valid number"),
    ],
)
def test_elevenlabs_error_details_are_read_from_both_shapes(elevenlabs, voice_settings, message):
    request = _request(
        elevenlabs, voice_id="nobody" if voice_settings is None else None, voice_settings=voice_settings or {}
    )
    with pytest.raises(BadRequest) as caught:
        elevenlabs.synthesize(request)
    assert message in caught.value.message


def test_elevenlabs_catalog(elevenlabs):
    voices = {v["id"]: v for v in elevenlabs.list_voices()}
    assert voices["21m00Tcm4TlvDq8ikWAM"]["name"] == "Rachel"
    assert voices["21m00Tcm4TlvDq8ikWAM"]["gender"] == "Female"
    assert voices["21m00Tcm4TlvDq8ikWAM"]["accent"] == "american"
    assert voices["pNInz6obpgDQGcFmaJgB"]["tags"] == ["deep", "middle aged", "narration", "premade"]
    assert voices["pNInz6obpgDQGcFmaJgB"]["language"] == "Unknown"
