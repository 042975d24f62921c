"""A prompt's URL in a page: `<audio src="/speak?text=Hello">` loads and plays in Chromium, served by gunicorn
from the cache's file (Chromium asks for byte ranges)."""

from __future__ import annotations

import time

import requests

from tests.serving import gunicorn


def test_an_audio_element_plays_the_get_url(page, tmp_path):
    with gunicorn(tmp_path) as served:
        deadline = time.monotonic() + 10
        while "Last-Modified" not in requests.get(served.url + "/speak?text=Hello", timeout=30).headers:
            assert time.monotonic() < deadline, "the entry was never served from its file"
        page.goto(served.url + "/")  # the page's origin: the relative URL below is the server's
        page.set_content('<audio id="player" preload="auto" src="/speak?text=Hello"></audio>')
        page.wait_for_function("document.querySelector('#player').readyState >= 1", timeout=20_000)
        assert page.eval_on_selector("#player", "el => el.error") is None
        assert page.eval_on_selector("#player", "el => el.duration") > 0
