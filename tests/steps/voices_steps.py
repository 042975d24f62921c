"""Sentences of features/voices.feature (providers are started by the speak steps' Givens)."""
from __future__ import annotations

import time

from pytest_bdd import given, parsers, then, when

from tests.steps.speak_steps import fake


@given(parsers.parse("each provider takes {seconds:f} seconds to list its voices"))
def slow_catalogs(world, seconds):
    for name in ("deepgram", "elevenlabs"):
        fake(world, name).catalog_latency = seconds


@when("Deepgram's catalog goes down")
@given("Deepgram's catalog goes down")
def deepgram_catalog_down(world):
    fake(world, "deepgram").catalog_down = True


@when("I ask for the voices", target_fixture="elapsed")
def timed_voices(world):
    started = time.perf_counter()
    world.request("GET", "/voices")
    return time.perf_counter() - started


@then(parsers.parse("the answer took less than {seconds:f} seconds"))
def answered_within(elapsed, seconds):
    assert elapsed < seconds, elapsed


@then(parsers.parse('the catalog lists only the providers "{names}"'))
def catalog_providers(world, names):
    assert list(world.response.get_json()) == [name.strip() for name in names.split(",")]


def _voice(world, provider, voice_id):
    voices = {v["id"]: v for v in world.response.get_json()[provider]}
    assert voice_id in voices, sorted(voices)[:20]
    return voices[voice_id]


@then(parsers.parse('the "{provider}" voice "{voice_id}" is named "{name}" with the language "{language}"'))
def voice_named(world, provider, voice_id, name, language):
    voice = _voice(world, provider, voice_id)
    assert (voice["name"], voice["language"]) == (name, language), voice


@then(parsers.parse('the "{provider}" voice "{voice_id}" has the {field} "{value}"'))
def voice_field(world, provider, voice_id, field, value):
    assert _voice(world, provider, voice_id)[field] == value


@then("every voice has an id, a name, a sample, an accent, a gender and a language")
def complete_voices(world):
    for provider, voices in world.response.get_json().items():
        assert voices, provider
        for voice in voices:
            for field in ("id", "name", "sample", "accent", "gender", "language"):
                assert isinstance(voice.get(field), str), (provider, voice)
            assert voice["id"] and voice["name"], voice


@then(parsers.parse("Deepgram was asked for its catalog {count:d} time"))
@then(parsers.parse("Deepgram was asked for its catalog {count:d} times"))
def deepgram_catalog_calls(world, count):
    calls = [c for c in fake(world, "deepgram").calls if c["path"] == "/v1/models"]
    assert len(calls) == count, calls


@then("Deepgram was asked for its catalog again")
def deepgram_catalog_asked_again(world):
    assert len([c for c in fake(world, "deepgram").calls if c["path"] == "/v1/models"]) > 1


@then(parsers.parse('the "{provider}" catalog has {count:d} voices'))
def catalog_size(world, provider, count):
    assert len(world.response.get_json()[provider]) == count
