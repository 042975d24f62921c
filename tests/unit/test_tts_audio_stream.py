"""`AudioStream`: a synthesis as it arrives, checked on the way exactly as a buffered answer is checked, and
`SpeechProvider.open_stream`'s default, the buffered answer as one chunk."""

import pytest

from app.errors import UpstreamError
from app.services.tts import audio
from app.services.tts.audio import Audio
from app.services.tts.audio_stream import AudioStream
from app.services.tts.provider import SpeechProvider
from app.services.tts.request import SpeechRequest
from tests.fakes.tone import encode, tone

WAV_24K = encode(tone("Hello there", 24_000), 24_000, "WAV", "PCM_16")
WAV_16K = encode(tone("Hello there", 16_000), 16_000, "WAV", "PCM_16")
MP3_22K = encode(tone("Hello there", 22_050), 22_050, "MP3", "MPEG_LAYER_III")
PCM_24K = encode(tone("Hello there", 24_000), 24_000, "RAW", "PCM_16")


class Canned(SpeechProvider):
    """A provider answering one canned Audio, buffered (no open_stream of its own)."""

    slug = "canned"

    def __init__(self, answer: Audio):
        self.answer = answer
        self.calls = 0

    def synthesize(self, request):
        self.calls += 1
        return self.answer

    def list_voices(self):
        return []


def _request(audio_format="wav", rate=24_000) -> SpeechRequest:
    return SpeechRequest(
        text="Hello there", provider="canned", voice_id="v", model="m", audio_format=audio_format, sample_rate=rate
    )


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_the_default_stream_is_the_verified_buffered_answer_in_one_chunk():
    answer = audio.measured(WAV_24K, "wav", 24_000)
    provider = Canned(answer)
    with provider.open_stream(_request()) as stream:
        assert (stream.provider, stream.audio_format, stream.sample_rate) == ("canned", "wav", 24_000)
        assert stream.content_type == "audio/wav"
        assert stream.whole == WAV_24K  # known before the first chunk
        assert list(stream) == [WAV_24K]
        assert stream.audio() == answer
    assert provider.calls == 1


def test_the_default_stream_refuses_unusable_audio_before_any_chunk():
    provider = Canned(audio.measured(WAV_16K, "wav", 16_000))
    with pytest.raises(UpstreamError, match="canned answered with unusable audio") as raised:
        provider.open_stream(_request())
    assert raised.value.code == "provider_error"


@pytest.mark.parametrize("size", [1, 7, 44, 4096])
def test_a_stream_yields_the_audio_in_order_and_ends_with_the_whole_audio(size):
    released = []
    stream = AudioStream("p", "wav", 24_000, chunks=iter(_pieces(WAV_24K, size)), release=lambda: released.append(1))
    assert stream.whole is None
    chunks = list(stream)
    assert all(chunks) and b"".join(chunks) == WAV_24K
    assert stream.audio() == audio.measured(WAV_24K, "wav", 24_000)
    assert released == [1]  # the end of the stream releases the connection


def test_the_head_is_judged_before_the_first_chunk_is_yielded():
    """A WAV at another rate, or another container, is refused on its first bytes, not after the relay."""
    for data, audio_format, rate in [(WAV_16K, "wav", 24_000), (WAV_24K, "mp3", 22_050), (MP3_22K, "wav", 24_000)]:
        stream = AudioStream("p", audio_format, rate, chunks=iter(_pieces(data, 4096)))
        iterator = iter(stream)
        with pytest.raises(UpstreamError, match="p answered with unusable audio") as raised:
            next(iterator)
        assert raised.value.code == "provider_error"


@pytest.mark.parametrize(
    "data, audio_format, rate, reason",
    [
        (PCM_24K + b"\x01", "linear16", 24_000, "not 16-bit PCM"),
        (WAV_24K[:2000], "wav", 24_000, "announces"),
        (b"\xff\xfb" + b"\x00" * 5000, "mp3", 22_050, "unreadable mp3"),
        (MP3_22K, "mp3", 44_100, "instead of 44100"),
    ],
)
def test_the_whole_audio_is_checked_at_the_end(data, audio_format, rate, reason):
    stream = AudioStream("p", audio_format, rate, chunks=iter(_pieces(data, 1024)))
    relayed = []
    with pytest.raises(UpstreamError, match=reason):
        for chunk in stream:
            relayed.append(chunk)
    assert relayed  # the chunks went out before the end check could judge them
    with pytest.raises(RuntimeError):
        stream.audio()


def test_an_empty_stream_is_unusable():
    with pytest.raises(UpstreamError, match="no audio"):
        list(AudioStream("p", "linear16", 24_000, chunks=iter([b"", b""])))


def test_close_is_idempotent_and_releases_once_mid_stream():
    released = []
    stream = AudioStream(
        "p", "linear16", 24_000, chunks=iter(_pieces(PCM_24K, 100)), release=lambda: released.append(1)
    )
    iterator = iter(stream)
    next(iterator)
    with stream:
        pass
    stream.close()
    assert released == [1]


def test_a_body_shorter_than_its_containers_head_is_judged_before_any_of_it_goes_out():
    stream = AudioStream("p", "wav", 24_000, chunks=iter([WAV_24K[:20], WAV_24K[20:30]]))  # cut in its header
    iterator = iter(stream)
    with pytest.raises(UpstreamError, match="unusable audio: WAV without a data chunk"):
        next(iterator)
