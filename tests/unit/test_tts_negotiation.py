import pytest

from app.api.speak.negotiation import AUDIO, JSON, accepted_audio_format, response_form


@pytest.mark.parametrize(
    "accept, nested, form",
    [
        (None, True, AUDIO),
        (None, False, JSON),
        ("*/*", True, AUDIO),
        ("*/*", False, JSON),
        ("application/json", True, JSON),
        ("audio/wav", False, AUDIO),
        ("application/octet-stream", False, AUDIO),
        ("audio/*;q=0.5, application/json", True, JSON),
        ("application/json;q=0.2, audio/mpeg", False, AUDIO),
        ("audio/wav, application/json", False, AUDIO),
        ("text/html", True, AUDIO),
        ("text/html", False, JSON),
    ],
)
def test_response_form(accept, nested, form):
    assert response_form(accept, nested) == form


@pytest.mark.parametrize(
    "accept, audio_format",
    [
        ("audio/wav", "wav"),
        ("audio/mpeg;q=0.4, audio/flac", "flac"),
        ("audio/*", None),
        ("*/*", None),
        (None, None),
        ("application/json", None),
        ("audio/ogg;q=0", None),
    ],
)
def test_accepted_audio_format(accept, audio_format):
    assert accepted_audio_format(accept) == audio_format
