from __future__ import annotations

import re
import shutil

from pytest_bdd import given, parsers, then


@given("the audio cache directory stops being writable after start-up")
def cache_not_writable(world):
    # The server refuses to start without it (tests/test_startup.py): it goes away after start-up.
    cache = world.app.extensions["services"].settings.cache.path
    shutil.rmtree(cache)
    cache.write_text("a file where the cache directory should be")


@then(parsers.parse('the response field "{key}" starts with "{prefix}"'))
def field_starts_with(world, key, prefix):
    body = world.response.get_json()
    for part in key.split("."):
        body = body[part]
    assert str(body).startswith(prefix), body


@then("the page loads its scripts and styles from this server only")
def assets_are_local(world):
    html = world.response.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    for source in sources:
        assert source.startswith("/"), f"{source} is not served by this server"
        with world.client.get(source) as asset:  # a file response: closing it closes the file
            assert asset.status_code == 200, source


@then(parsers.parse('the document declares the security schemes "{first}" and "{second}"'))
def security_schemes(world, first, second):
    schemes = world.response.get_json()["components"]["securitySchemes"]
    assert {first, second} <= set(schemes)
