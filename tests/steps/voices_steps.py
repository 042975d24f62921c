"""Sentences of features/voices.feature (providers are started by the speak steps' Givens)."""

from __future__ import annotations

import threading

from pytest_bdd import given, parsers, then, when

from tests.steps.speak_steps import fake


@given("Deepgram and ElevenLabs answer their catalogs only while both are being asked")
def catalogs_meet(world):
    barrier = threading.Barrier(2)
    for name in ("deepgram", "elevenlabs"):
        fake(world, name).catalog_barrier = barrier


@when("Deepgram's catalog goes down")
@given("Deepgram's catalog goes down")
def deepgram_catalog_down(world):
    fake(world, "deepgram").catalog_down = True


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
