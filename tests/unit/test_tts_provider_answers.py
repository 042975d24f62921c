"""Whatever a provider answers that is not the asked audio is a provider error, never served and never
cached; every synthesis ends by one deadline. The providers here are real servers misbehaving at the
HTTP level (tests/fakes/misbehaving.py), reached exactly as in production."""

import json
import threading
import time

import pytest

from tests.fakes.misbehaving import Answer, MisbehavingProvider
from tests.fakes.tone import encode, tone

WAV_24K = encode(tone("Hello there", 24_000), 24_000, "WAV", "PCM_16")
MP3_22K = encode(tone("Hello there", 22_050), 22_050, "MP3", "MPEG_LAYER_III")
PCM_24K = encode(tone("Hello there", 24_000), 24_000, "RAW", "PCM_16")


@pytest.fixture
def provider():
    with MisbehavingProvider() as server:
        yield server


def _speak(client, provider_name="deepgram", accept="application/json", **config):
    """The JSON form by default: the whole answer is checked before anything is sent (the binary form
    streams, see the last test)."""
    return client.post(
        "/speak",
        json={"text": "Hello there", "tts_config": {"provider": provider_name, "model": "", **config}},
        headers={"Accept": accept},
    )


def _app(make_app, provider, **env):
    return make_app(
        DEEPGRAM_API_KEY="dg-key",
        DEEPGRAM_BASE_URL=provider.url,
        ELEVENLABS_API_KEY="el-key",
        ELEVENLABS_BASE_URL=provider.url,
        **env,
    )


def _wav_announcing(extra: int) -> bytes:
    """A WAV whose header announces `extra` more bytes of audio than it carries."""
    data_at = WAV_24K.index(b"data")
    size = int.from_bytes(WAV_24K[data_at + 4 : data_at + 8], "little") + extra
    return WAV_24K[: data_at + 4] + size.to_bytes(4, "little") + WAV_24K[data_at + 8 :]


BAD_ANSWERS = {
    "an HTML page": (
        "linear16",
        Answer(headers={"Content-Type": "text/html"}, body=b"<html><body>502 Bad Gateway (nginx)</body></html>"),
    ),
    "a JSON error with a 200": (
        "linear16",
        Answer(headers={"Content-Type": "application/json"}, body=b'{"err_code":"QUOTA","err_msg":"out of credits"}'),
    ),
    "an empty body": ("wav", Answer(headers={"Content-Type": "audio/wav"}, body=b"")),
    "a body shorter than its Content-Length": (
        "linear16",
        Answer(headers={"Content-Type": "application/octet-stream"}, body=PCM_24K[:1000], content_length=len(PCM_24K)),
    ),
    "a body shorter than its WAV header says": (
        "wav",
        Answer(headers={"Content-Type": "audio/wav"}, body=_wav_announcing(48_000)),
    ),
    "a wrong content type": ("mp3", Answer(headers={"Content-Type": "text/plain"}, body=MP3_22K)),
    "undecodable mp3": ("mp3", Answer(headers={"Content-Type": "audio/mpeg"}, body=b"\xff\xfb" + b"\x00" * 999)),
    "a WAV at another rate": (
        "wav",
        Answer(headers={"Content-Type": "audio/wav"}, body=encode(tone("Hello", 16_000), 16_000, "WAV", "PCM_16")),
    ),
    "odd-length PCM to convert": (
        "ogg",
        Answer(headers={"Content-Type": "application/octet-stream"}, body=b"\x01" * 1001),
    ),
}


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_a_bad_answer_is_a_provider_error_never_served_nor_cached(make_app, provider, case):
    audio_format, answer = BAD_ANSWERS[case]
    rate = {"mp3": 22_050, "ogg": 16_000}.get(audio_format, 24_000)
    client = _app(make_app, provider).test_client()
    provider.answer = answer
    for attempt in (1, 2):  # the same request reaches the provider again: nothing was cached
        response = _speak(client, audio_format=audio_format, sample_rate=rate)
        assert response.status_code == 500, response.get_data(as_text=True)
        assert response.json["code"] == "provider_error" and "deepgram" in response.json["error"]
        assert len(provider.requests) == attempt
    provider.answer = Answer(
        headers={"Content-Type": "audio/mpeg" if audio_format == "mp3" else "audio/wav"},
        body=MP3_22K if audio_format == "mp3" else WAV_24K,
    )
    if audio_format in ("wav", "mp3"):  # once the provider recovers, the request is synthesized afresh
        recovered = _speak(client, audio_format=audio_format, sample_rate=rate)
        assert recovered.status_code == 200 and recovered.headers["x-cache"] == "MISS"


# Found only at the end of the audio, once a streamed answer has started: the answer is cut short.
_FOUND_AT_THE_END = {
    "a body shorter than its Content-Length",
    "a body shorter than its WAV header says",
    "undecodable mp3",
}


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_a_bad_answer_to_a_binary_request_is_refused_or_cut_short_and_never_cached(make_app, provider, case):
    audio_format, answer = BAD_ANSWERS[case]
    rate = {"mp3": 22_050, "ogg": 16_000}.get(audio_format, 24_000)
    client = _app(make_app, provider).test_client()
    provider.answer = answer
    for attempt in (1, 2):
        if case in _FOUND_AT_THE_END:
            with pytest.raises(ConnectionResetError):  # the server drops the connection without the last chunk
                _speak(client, accept="*/*", audio_format=audio_format, sample_rate=rate)
        else:
            response = _speak(client, accept="*/*", audio_format=audio_format, sample_rate=rate)
            assert response.status_code == 500 and response.json["code"] == "provider_error"
        assert len(provider.requests) == attempt


def test_the_check_is_shared_by_every_http_provider(make_app, provider):
    provider.answer = Answer(headers={"Content-Type": "text/html"}, body=b"<html>Service Unavailable</html>")
    response = _speak(_app(make_app, provider).test_client(), "elevenlabs")
    assert response.status_code == 500
    assert response.json["code"] == "provider_error" and "elevenlabs" in response.json["error"]


def _timed_speak(client, **config) -> tuple[object, float]:
    """The response and how long it took; the test fails (instead of hanging) after 20 s."""
    result = {}

    def run():
        started = time.monotonic()
        result["response"] = _speak(client, **config)
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert "response" in result, "the synthesis was still running after 20 s"
    return result["response"], result["seconds"]


def test_a_provider_trickling_forever_is_cut_off_at_the_deadline(make_app, provider):
    provider.answer = Answer(
        headers={"Content-Type": "application/octet-stream"}, body=b"\0" * 4, trickle_seconds=0.2, trickle_forever=True
    )
    response, seconds = _timed_speak(_app(make_app, provider, TTS_REQUEST_TIMEOUT_SECONDS="1").test_client())
    assert response.status_code == 500 and response.json["code"] == "provider_timeout"
    assert "deepgram" in response.json["error"]
    assert seconds < 3


def test_the_deadline_covers_every_attempt(make_app, provider):
    provider.answer = Answer(
        status="503 Service Unavailable", headers={"Retry-After": "2"}, body=b"busy", trickle_seconds=0.2
    )
    response, seconds = _timed_speak(
        _app(make_app, provider, TTS_REQUEST_TIMEOUT_SECONDS="1.5", TTS_MAX_RETRIES="5").test_client()
    )
    assert response.status_code == 500 and response.json["code"] == "provider_timeout"
    assert seconds < 3.5


def test_a_callers_request_timeout_shortens_the_deadline_but_never_lengthens_it(make_app, provider):
    provider.answer = Answer(hang=True)
    client = _app(make_app, provider, TTS_REQUEST_TIMEOUT_SECONDS="1").test_client()
    response, seconds = _timed_speak(client, request_timeout=600)
    assert response.json["code"] == "provider_timeout" and seconds < 3
    client = _app(make_app, provider, TTS_REQUEST_TIMEOUT_SECONDS="600").test_client()
    response, seconds = _timed_speak(client, request_timeout=1)
    assert response.json["code"] == "provider_timeout" and seconds < 3


def test_a_synthesis_that_timed_out_is_not_sent_again(make_app, provider):
    """The documented choice: the provider may have received, produced and billed it."""
    provider.answer = Answer(hang=True)
    client = _app(make_app, provider, TTS_REQUEST_TIMEOUT_SECONDS="1", TTS_MAX_RETRIES="3").test_client()
    response, _ = _timed_speak(client)
    assert response.json["code"] == "provider_timeout"
    assert len(provider.requests) == 1
    assert json.loads(provider.requests[0]["body"]) == {"text": "Hello there"}
