"""GET /speak and the validators of the audio answers, at the HTTP level through gunicorn (gunicorn.conf.py,
2 workers): what a browser, an audio player or a caching proxy sees."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests

from tests.serving import gunicorn

SECRET = "http-speak-secret-1"
PROMPT = "/speak?text=Welcome%20to%20Sayna"


def _hit(url: str, **kwargs) -> requests.Response:
    """The answer once the cache has the entry in the worker that answers (entries are stored just after a
    miss's answer; until then an identical request may be answered from the synthesis it waited for)."""
    deadline = time.monotonic() + 10
    while True:
        response = requests.get(url, timeout=10, **kwargs)
        assert response.status_code == 200, response.text
        if response.headers["x-cache"] == "HIT" and "Last-Modified" in response.headers:
            return response
        assert time.monotonic() < deadline, dict(response.headers)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("speak-http"), CACHE_TTL_SECONDS="3600") as served:
        yield served


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("speak-http-auth"), AUTH_REQUIRED="true", AUTH_API_SECRET=SECRET) as served:
        yield served


def test_a_get_url_answers_a_playable_wav_and_then_the_same_bytes_from_the_cache(server):
    miss = requests.get(server.url + PROMPT, timeout=30)
    assert miss.status_code == 200 and miss.headers["Content-Type"] == "audio/wav"
    assert miss.content[:4] == b"RIFF" and miss.content[8:12] == b"WAVE"
    hit = _hit(server.url + PROMPT)
    assert hit.content == miss.content
    for response in (miss, hit):
        assert response.headers["ETag"] == f'"{hashlib.sha256(miss.content).hexdigest()}"'
        assert response.headers["Accept-Ranges"] == "bytes"
        assert response.headers["Cache-Control"] == "public, max-age=3600, immutable"
        assert response.headers["Content-Length"] == str(len(miss.content))
        assert {name: response.headers[name] for name in ("x-audio-format", "x-sample-rate", "x-provider")} == {
            "x-audio-format": "wav",
            "x-sample-rate": "24000",
            "x-provider": "local",
        }
    assert [name for name in hit.raw.headers if name.startswith("x-")] == [  # spelled as the SDK reads them
        "x-audio-format",
        "x-sample-rate",
        "x-voice-id",
        "x-provider",
        "x-cache",
    ]


def test_validators_ranges_and_head_on_a_hit(server):
    hit = _hit(server.url + PROMPT)
    size, etag = len(hit.content), hit.headers["ETag"]

    not_modified = requests.get(server.url + PROMPT, headers={"If-None-Match": etag}, timeout=10)
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["ETag"] == etag
    other = requests.get(server.url + PROMPT, headers={"If-None-Match": '"another"'}, timeout=10)
    assert other.status_code == 200 and other.content == hit.content

    since = requests.get(server.url + PROMPT, headers={"If-Modified-Since": hit.headers["Last-Modified"]}, timeout=10)
    assert since.status_code == 304

    part = requests.get(server.url + PROMPT, headers={"Range": "bytes=100-199"}, timeout=10)
    assert part.status_code == 206 and part.content == hit.content[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{size}" and part.headers["Content-Length"] == "100"
    tail = requests.get(server.url + PROMPT, headers={"Range": "bytes=-10"}, timeout=10)
    assert tail.status_code == 206 and tail.content == hit.content[-10:]

    beyond = requests.get(server.url + PROMPT, headers={"Range": f"bytes={size}-"}, timeout=10)
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{size}"
    assert beyond.json()["code"] == "range_not_satisfiable"

    head = requests.head(server.url + PROMPT, timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(size) and head.headers["ETag"] == etag


def test_a_miss_answers_ranges_too(server):
    url = server.url + "/speak?text=Ranges%20on%20a%20miss&audio_format=mp3"
    part = requests.get(url, headers={"Range": "bytes=0-3"}, timeout=30)
    assert part.status_code == 206 and part.headers["x-cache"] == "MISS" and len(part.content) == 4
    whole = _hit(url)
    assert part.content == whole.content[:4] and part.headers["ETag"] == whole.headers["ETag"]


def test_the_get_url_takes_the_flat_forms_fields_and_checks_them(server):
    url = server.url + "/speak?text=Hello&provider=local&voice_id=gmw/en-US&audio_format=flac&sample_rate=16000"
    response = requests.get(url + "&speaking_rate=1.5", timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == "audio/flac"
    assert response.headers["x-sample-rate"] == "16000" and response.headers["x-voice-id"] == "gmw/en-US"
    for query, code in (
        ("", "invalid_request"),
        ("?text=", "empty_text"),
        ("?text=Hi&sample_rate=fast", "invalid_request"),
        ("?text=Hi&speaking_rate=9", "invalid_request"),
        ("?text=Hi&provider=acme", "unsupported_provider"),
        ("?text=Hi&audio_format=aac", "unsupported_audio_format"),
    ):
        refused = requests.get(server.url + "/speak" + query, timeout=10)
        assert refused.status_code == 400 and refused.json()["code"] == code, (query, refused.text)


def test_a_post_names_the_equivalent_get_url_which_answers_the_same_audio(server):
    body = {"text": "Same prompt, two ways", "tts_config": {"provider": "local", "model": "", "audio_format": "mp3"}}
    posted = requests.post(server.url + "/speak", json=body, timeout=30)
    location = posted.headers["Content-Location"]
    assert location == "/speak?text=Same%20prompt%2C%20two%20ways&provider=local&model=espeak-ng&audio_format=mp3"
    fetched = requests.get(server.url + location, timeout=30)
    assert fetched.content == posted.content and fetched.headers["ETag"] == posted.headers["ETag"]

    flat = requests.post(server.url + "/speak", json={"text": "Hello", "audio_format": "wav"}, timeout=30)
    assert flat.headers["Content-Location"] == "/speak?text=Hello"  # wav is the URL's default
    with_settings = requests.post(server.url + "/speak", json={"text": "Hello", "voice_settings": {"pitch": 80}})
    assert with_settings.status_code == 200 and "Content-Location" not in with_settings.headers


def test_with_auth_the_url_takes_the_token_as_a_header_or_api_key_and_is_private(secured):
    refused = requests.get(secured.url + PROMPT, timeout=10)
    assert refused.status_code == 401 and refused.json()["code"] == "missing_auth_header"
    wrong = requests.get(secured.url + PROMPT + "&api_key=wrong", timeout=10)
    assert wrong.status_code == 401 and set(wrong.json()) == {"error", "code"}
    by_query = requests.get(secured.url + PROMPT + f"&api_key={SECRET}", timeout=30)
    by_header = _hit(secured.url + PROMPT, headers={"Authorization": f"Bearer {SECRET}"})
    assert by_query.status_code == 200 and by_query.content == by_header.content
    assert by_query.headers["Cache-Control"] == by_header.headers["Cache-Control"] == "private"

    posted = requests.post(
        secured.url + f"/speak?api_key={SECRET}", json={"text": "Welcome to Sayna", "audio_format": "wav"}, timeout=30
    )
    assert posted.status_code == 200 and posted.headers["Content-Location"] == PROMPT
    assert SECRET not in str(posted.headers) and SECRET not in str(by_query.headers)
    log = secured.log_text()
    assert SECRET not in log and "api_key" not in log and "?text=" not in log  # access lines name the path only
    assert '"path": "/speak"' in log
