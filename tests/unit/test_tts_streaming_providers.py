"""Every provider that can stream (`open_stream`) against its fake, over real HTTP: audio reaches the consumer
while the provider still holds the rest, the stream is the audio `synthesize` gives, and whatever breaks
before or during the stream is the provider's error. The fakes pace their body (tests/fakes/pacing.py)
with events, so "before the rest" is proved by the fake still holding it, never by a clock."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from app.errors import ApiError, UpstreamError
from app.services.tts.azure import AzureProvider
from app.services.tts.cartesia import CartesiaProvider
from app.services.tts.deepgram import DeepgramProvider
from app.services.tts.elevenlabs import ElevenLabsProvider
from app.services.tts.openai import OpenAIProvider
from app.services.tts.request import SpeechRequest
from app.settings import TTSSettings
from tests.fakes.azure import FakeAzure
from tests.fakes.cartesia import FakeCartesia
from tests.fakes.deepgram import FakeDeepgram
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.openai import FakeOpenAI
from tests.fakes.pacing import Pacing
from tests.fakes.server import FakeServer

KEYS = {"deepgram": "dg-key", "elevenlabs": "el-key", "openai": "sk-key-0123456789", "cartesia": "ca-key"}
AZURE_KEY, REGION = "az-key", "westeurope"
TEXT = "Hello there, this is a sentence long enough to come back in several chunks of audio"


def _fake(name: str):
    if name == "azure":
        return FakeAzure(api_key=AZURE_KEY, region=REGION)
    return {"deepgram": FakeDeepgram, "elevenlabs": FakeElevenLabs, "openai": FakeOpenAI, "cartesia": FakeCartesia}[
        name
    ](api_key=KEYS[name])


def _provider(name: str, url: str, **settings):
    settings.setdefault("request_timeout_seconds", 5.0)  # a provider that buffered would fail here, not hang
    settings.setdefault("max_retries", 0)
    if name == "deepgram":
        return DeepgramProvider(TTSSettings(deepgram_api_key=KEYS[name], deepgram_base_url=url, **settings))
    if name == "elevenlabs":
        return ElevenLabsProvider(TTSSettings(elevenlabs_api_key=KEYS[name], elevenlabs_base_url=url, **settings))
    if name == "openai":
        return OpenAIProvider(TTSSettings(openai_api_key=KEYS[name], openai_base_url=url + "/v1", **settings))
    if name == "cartesia":
        return CartesiaProvider(TTSSettings(cartesia_api_key=KEYS[name], cartesia_base_url=url, **settings))
    return AzureProvider(
        TTSSettings(
            azure_speech_subscription_key=AZURE_KEY,
            azure_speech_region=REGION,
            azure_speech_base_url=url + "/{region}",
            **settings,
        )
    )


NAMES = ("deepgram", "elevenlabs", "openai", "cartesia", "azure")
# (provider, format, rate, how): "native" the provider sends the asked audio, "converted" we resample or
# encode its raw PCM as it arrives, "buffered" we encode its raw PCM once whole (mp3/ogg/flac)
CASES = [
    ("deepgram", "wav", 24_000, "native"),
    ("deepgram", "mp3", 22_050, "native"),
    ("deepgram", "linear16", 22_050, "converted"),
    ("deepgram", "mp3", 44_100, "buffered"),
    ("elevenlabs", "wav", 24_000, "native"),
    ("elevenlabs", "mulaw", 8_000, "native"),
    ("elevenlabs", "linear16", 11_025, "converted"),
    ("elevenlabs", "flac", 24_000, "buffered"),
    ("openai", "wav", 24_000, "native"),
    ("openai", "linear16", 24_000, "native"),
    ("openai", "wav", 16_000, "converted"),
    ("openai", "mulaw", 24_000, "converted"),
    ("openai", "ogg", 24_000, "buffered"),
    ("cartesia", "wav", 22_050, "native"),
    ("cartesia", "mulaw", 8_000, "native"),
    ("cartesia", "wav", 11_025, "converted"),
    ("cartesia", "ogg", 48_000, "buffered"),
    ("azure", "wav", 16_000, "native"),
    ("azure", "mp3", 24_000, "native"),
    ("azure", "mulaw", 16_000, "converted"),
    ("azure", "flac", 24_000, "buffered"),
]
STREAMED = [case for case in CASES if case[3] != "buffered"]
# the same audio as synthesize byte for byte, unless resampled (the stream's filter state differs)
RESAMPLED = {("deepgram", "linear16", 22_050), ("elevenlabs", "linear16", 11_025), ("openai", "wav", 16_000)}
RESAMPLED |= {("cartesia", "wav", 11_025)}


def _id(case) -> str:
    return "-".join(str(part) for part in case)


@pytest.fixture(scope="module")
def servers():
    """One server per fake for the module (stopping one costs half a second); each test gets fresh fakes."""
    fakes: dict = {}

    def dispatch(name):
        return lambda environ, start_response: fakes[name].app(environ, start_response)

    started = {name: FakeServer(dispatch(name)).start() for name in NAMES}
    yield fakes, {name: server.url for name, server in started.items()}
    for server in started.values():
        server.stop()


@pytest.fixture
def make(servers):
    """make(name, **settings) -> provider, with provider.fake its fresh fake; pacings are stopped after."""
    fakes, urls = servers
    providers = []

    def build(name: str, **settings):
        fakes[name] = _fake(name)
        provider = _provider(name, urls[name], **settings)
        provider.fake = fakes[name]
        providers.append(provider)
        return provider

    yield build
    for provider in providers:
        if provider.fake.pacing:
            provider.fake.pacing.stop()
        provider.close()


def _request(provider, audio_format="wav", rate=24_000, **overrides) -> SpeechRequest:
    voice, model = provider.resolve_voice(None, None)
    values = dict(
        text=TEXT,
        provider=provider.slug,
        voice_id=voice,
        model=model,
        audio_format=audio_format,
        sample_rate=rate,
    )
    values.update(overrides)
    return SpeechRequest(**values)


def _native_wav(provider) -> SpeechRequest:
    return _request(provider, "wav", {"cartesia": 22_050, "azure": 16_000}.get(provider.slug, 24_000))


@pytest.mark.parametrize("case", STREAMED, ids=_id)
def test_audio_reaches_the_consumer_while_the_provider_holds_the_rest(make, case):
    name, audio_format, rate, _ = case
    provider = make(name)
    request = _request(provider, audio_format, rate)
    provider.fake.pacing = pacing = Pacing(first=4096, hold=True)
    with provider.open_stream(request) as stream:
        assert stream.whole is None and stream.content_type.startswith("audio/")
        chunks = iter(stream)
        first = next(chunks)
        assert first and not pacing.release.is_set()  # the fake still holds everything after its first 4 KB
        assert not pacing.finished.is_set()
        pacing.release.set()
        streamed = first + b"".join(chunks)
        assert pacing.finished.is_set()
    whole = stream.audio()
    provider.fake.pacing = None
    buffered = provider.synthesize_checked(request)
    assert (whole.audio_format, whole.sample_rate) == (audio_format, rate)
    assert whole.data == streamed
    if (name, audio_format, rate) in RESAMPLED:
        # resampled chunk by chunk: the same length to the frame, the samples within the filter's rounding
        frame = 1 if audio_format == "mulaw" else 2
        assert abs(len(streamed) - len(buffered.data)) <= frame
        assert abs(whole.duration_ms - buffered.duration_ms) <= 1
    else:
        assert streamed == buffered.data
        assert whole == buffered


@pytest.mark.parametrize("case", [case for case in CASES if case[3] == "buffered"], ids=_id)
def test_encodings_that_need_the_whole_signal_are_buffered_and_equal_synthesize(make, case):
    name, audio_format, rate, _ = case
    provider = make(name)
    request = _request(provider, audio_format, rate)
    with provider.open_stream(request) as stream:
        assert stream.whole is not None
        assert list(stream) == [stream.whole]
    whole, buffered = stream.audio(), provider.synthesize_checked(request)
    if audio_format == "ogg":  # libsndfile's Ogg encoder picks a random stream serial number
        assert (whole.audio_format, whole.sample_rate, whole.duration_ms) == (
            buffered.audio_format,
            buffered.sample_rate,
            buffered.duration_ms,
        )
        assert whole.data[:4] == b"OggS" and abs(len(whole.data) - len(buffered.data)) < 64
    else:
        assert whole == buffered


@pytest.mark.parametrize("name", NAMES)
def test_a_connection_cut_mid_body_is_a_provider_error(make, name):
    provider = make(name)
    provider.fake.pacing = Pacing(first=4096, hold=False, cut=True)
    relayed = []
    with pytest.raises(UpstreamError, match=f"^{name}: the answer was cut short") as raised:
        with provider.open_stream(_native_wav(provider)) as stream:
            relayed.extend(stream)
    assert raised.value.code == "provider_error"
    assert relayed  # the first part went out before the cut


@pytest.mark.parametrize("name", NAMES)
def test_a_body_shorter_than_its_content_length_is_a_provider_error(make, name):
    provider = make(name)
    provider.fake.pacing = Pacing(first=4096, hold=False, announce_extra=1000)
    with pytest.raises(UpstreamError, match=f"^{name}: the answer was cut short") as raised:
        with provider.open_stream(_native_wav(provider)) as stream:
            list(stream)
    assert raised.value.code == "provider_error"


def _timed(action) -> tuple[BaseException | None, float]:
    """What `action` raised and how long it ran; the test fails, instead of hanging, after 20 s."""
    result: dict = {}

    def run():
        started = time.monotonic()
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            result["error"] = exc
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert "seconds" in result, "the stream was still running after 20 s"
    return result.get("error"), result["seconds"]


def _drain(provider, request):
    def action():
        with provider.open_stream(request) as stream:
            list(stream)

    return action


@pytest.mark.parametrize("name", NAMES)
def test_a_provider_trickling_forever_is_cut_off_at_the_deadline(make, name):
    provider = make(name, request_timeout_seconds=1.0)
    provider.fake.pacing = Pacing(first=4096, hold=False, trickle_seconds=0.1, trickle_forever=True)
    error, seconds = _timed(_drain(provider, _native_wav(provider)))
    assert isinstance(error, UpstreamError), error
    assert error.message == f"{name}: no complete answer within 1 s" and error.code == "provider_timeout"
    assert seconds < 3
    assert provider.fake.pacing.abandoned.wait(5)  # and the connection was dropped


def test_a_read_blocked_at_the_deadline_is_cut_by_the_timer_not_by_its_own_timeout(make):
    """The socket's read timeout is the time left when the request was sent: a provider going silent
    late in the deadline would hold a read until nearly twice the deadline; the timer shuts the socket."""
    provider = make("deepgram", request_timeout_seconds=2.0)
    provider.fake.pacing = Pacing(first=4096, hold=False, chunk=1024, trickle_seconds=0.25, silent_after=6)
    error, seconds = _timed(_drain(provider, _native_wav(provider)))
    assert isinstance(error, UpstreamError) and error.code == "provider_timeout", error
    assert seconds < 3.0  # silent from about 1.5 s: the read's own timeout would end it at about 3.5 s


@pytest.mark.parametrize("name", NAMES)
def test_a_200_that_is_not_audio_is_a_provider_error_before_any_chunk(make, name):
    provider = make(name)
    provider.fake.pacing = Pacing(hold=False, content_type="text/html", body=b"<html>502 Bad Gateway</html>")
    with pytest.raises(UpstreamError, match=f"^{name} answered with text/html instead of audio") as raised:
        provider.open_stream(_native_wav(provider))
    assert raised.value.code == "provider_error"


@pytest.mark.parametrize("name", NAMES)
def test_a_first_chunk_that_is_not_the_asked_container_is_refused_before_it_is_relayed(make, name):
    provider = make(name)
    provider.fake.pacing = Pacing(first=4096, hold=False, body=b"<html>" + b"x" * 9000)
    with provider.open_stream(_native_wav(provider)) as stream:
        with pytest.raises(UpstreamError, match=f"^{name} answered with unusable audio: not a WAV file") as raised:
            next(iter(stream))
    assert raised.value.code == "provider_error"


@pytest.mark.parametrize("name", NAMES)
def test_closing_mid_stream_releases_the_connection(make, name):
    provider = make(name)
    provider.fake.pacing = pacing = Pacing(first=4096, hold=True, chunk=512)
    stream = provider.open_stream(_native_wav(provider))
    assert next(iter(stream))
    stream.close()
    stream.close()  # idempotent
    pacing.release.set()
    assert pacing.abandoned.wait(5)  # the fake's next writes failed: we hung up
    assert not pacing.finished.is_set()


def _shape(error: ApiError) -> tuple:
    return type(error), error.status, error.code, error.message


def _failure(action) -> ApiError:
    with pytest.raises(ApiError) as raised:
        action()
    return raised.value


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("status", [429, 503])
def test_errors_before_the_audio_are_the_ones_synthesize_raises(make, name, status):
    provider = make(name)
    request = _native_wav(provider)
    provider.fake.fail_next = [status]
    buffered = _failure(lambda: provider.synthesize(request))
    provider.fake.fail_next = [status]
    streamed = _failure(lambda: provider.open_stream(request))
    assert _shape(streamed) == _shape(buffered)
    assert name in streamed.message


@pytest.mark.parametrize("name", NAMES)
def test_refused_request_credentials_are_the_same_error_and_never_echoed(make, name):
    provider = make(name)
    auth = {"api_key": "wrong-key-123456", **({"region": REGION} if name == "azure" else {})}
    request = _native_wav(provider)
    request = SpeechRequest(**{**request.__dict__, "auth": auth})
    buffered = _failure(lambda: provider.synthesize(request))
    streamed = _failure(lambda: provider.open_stream(request))
    assert _shape(streamed) == _shape(buffered)
    assert "wrong-key-123456" not in streamed.message


@pytest.mark.parametrize("name", NAMES)
def test_an_answer_refused_before_the_audio_is_retried_then_streamed(make, name):
    provider = make(name, max_retries=1)
    provider.fake.fail_next = [503]
    with provider.open_stream(_native_wav(provider)) as stream:
        data = b"".join(stream)
    assert data == stream.audio().data and len(provider.fake.speak_calls) == 2


def _blocked_in_a_socket_read(thread: threading.Thread) -> bool:
    """Whether `thread` reaches a socket read (and stays there) within 5 s: its stack, not a clock."""
    for _ in range(1000):
        frame = sys._current_frames().get(thread.ident)
        while frame is not None:
            if frame.f_code.co_name == "readinto" and frame.f_code.co_filename.endswith("socket.py"):
                return True
            frame = frame.f_back
        threading.Event().wait(0.005)
    return False


def test_closing_from_another_thread_ends_a_read_blocked_on_the_provider(make):
    """The consumer is waiting for audio the provider holds back; close() from elsewhere (the stream is
    abandoned) ends that wait at once with the provider's error, well before the deadline."""
    provider = make("deepgram", request_timeout_seconds=30.0)
    provider.fake.pacing = pacing = Pacing(first=4096, hold=True)
    stream = provider.open_stream(_native_wav(provider))
    chunks = iter(stream)
    assert next(chunks)
    outcome: dict = {}

    def consume():
        try:
            list(chunks)  # blocks: the fake holds the rest
        except UpstreamError as exc:
            outcome["error"] = exc

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    assert _blocked_in_a_socket_read(reader)
    closer = threading.Thread(target=stream.close, daemon=True)
    closer.start()
    closer.join(10)
    reader.join(10)
    assert not closer.is_alive(), "close() waited for the blocked read"
    assert not reader.is_alive(), "the read was still blocked after close()"
    assert outcome["error"].message == "deepgram: the answer was closed before its end"
    assert outcome["error"].code == "provider_error"
    assert not pacing.release.is_set()
