"""The playground and the API reference in Chromium: what a person trying the server sees and hears."""

from __future__ import annotations

import os
from pathlib import Path

import requests

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "playground.png"
AUDIO_PLAYABLE = "el => el.readyState >= 1 && el.duration > 0 && el.error === null"


def test_the_playground_lists_voices_and_speaks_then_hits_the_cache(make_app, serve, page):
    base = serve(make_app())
    page.goto(base + "/playground")
    page.wait_for_function("document.querySelectorAll('#voice option').length > 10")
    assert page.eval_on_selector("#provider", "el => el.value") == "local"
    assert "gmw/en-US" in page.eval_on_selector_all("#voice option", "els => els.map(o => o.value)")

    page.select_option("#voice", "gmw/en-US")
    page.click("#speak")
    page.wait_for_function(f"(el => {AUDIO_PLAYABLE.split('=> ', 1)[1]})(document.querySelector('#player'))")
    assert page.text_content("#result-cache") == "MISS"
    assert page.eval_on_selector("#player", "el => el.src").startswith("blob:")
    assert "wav" in page.text_content("#result-size") and page.text_content("#result-voice") == "local / gmw/en-US"

    page.click("#speak")
    page.wait_for_function("document.querySelector('#result-cache').textContent === 'HIT'")
    page.wait_for_function(f"(el => {AUDIO_PLAYABLE.split('=> ', 1)[1]})(document.querySelector('#player'))")
    assert page.is_hidden("#key-panel") and page.is_hidden("#livekit-panel")
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        page.set_viewport_size({"width": 900, "height": 600})
        page.screenshot(path=str(SCREENSHOT))


def test_a_bad_key_shows_the_servers_error_message(make_app, serve, page):
    base = serve(make_app(AUTH_REQUIRED="true", AUTH_API_SECRET="playground-secret"))
    expected = requests.get(base + "/voices", headers={"Authorization": "Bearer wrong-key"}, timeout=10).json()
    page.goto(base + "/playground")
    assert page.is_visible("#api-key")
    page.fill("#api-key", "wrong-key")
    page.dispatch_event("#api-key", "change")
    page.wait_for_function("document.querySelector('#status').classList.contains('error')")
    assert page.text_content("#status") == f"{expected['error']} ({expected['code']})"

    page.fill("#api-key", "playground-secret")
    page.dispatch_event("#api-key", "change")
    page.wait_for_function("document.querySelectorAll('#voice option').length > 10")
    assert page.evaluate("sessionStorage.getItem('sayna.apiKey')") == "playground-secret"
    assert page.evaluate("localStorage.length") == 0


def test_the_livekit_panel_mints_a_token_when_livekit_is_configured(make_app, serve, page, livekit):
    from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET

    base = serve(make_app(LIVEKIT_URL=livekit.url, LIVEKIT_API_KEY=TEST_API_KEY, LIVEKIT_API_SECRET=TEST_API_SECRET))
    page.goto(base + "/playground")
    page.click("#mint")
    page.wait_for_function("document.querySelector('#token').textContent.includes('token: ey')")
    assert "room: playground" in page.text_content("#token")


def test_swagger_try_it_out_on_speak_answers_200_and_plays(make_app, serve, page):
    base = serve(make_app())
    page.goto(base + "/docs")
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("/favicon.ico")
    assert requests.get(base + "/favicon.ico", timeout=10).headers["Content-Type"] == "image/png"
    page.click("#operations-speak-post_speak .opblock-summary")
    page.click("#operations-speak-post_speak .try-out__btn")
    page.click("#operations-speak-post_speak .execute")
    status = page.wait_for_selector("#operations-speak-post_speak .live-responses-table tbody .response-col_status")
    assert status.text_content().strip() == "200"
    player = page.wait_for_selector("#operations-speak-post_speak .live-responses-table audio")
    page.wait_for_function(
        f"(el => {AUDIO_PLAYABLE.split('=> ', 1)[1]})"
        "(document.querySelector('#operations-speak-post_speak .live-responses-table audio'))"
    )
    assert player.eval_on_selector("source", "el => el.src").startswith("blob:")
