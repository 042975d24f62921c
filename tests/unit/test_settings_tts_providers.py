"""Settings of the Google, Azure, Cartesia and OpenAI providers."""

import json

import pytest

from app.redaction import configured_secrets
from app.settings import Settings, SettingsError


def test_google_credentials_path_is_kept_as_a_path_and_is_not_a_secret():
    settings = Settings.from_env({"GOOGLE_APPLICATION_CREDENTIALS": "/run/secrets/google.json"})
    assert settings.tts.google_credentials_path == "/run/secrets/google.json"
    assert settings.tts.google_credentials_json is None
    assert "/run/secrets/google.json" not in configured_secrets(settings)


def test_google_inline_credentials_are_a_secret():
    text = json.dumps({"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----x"})
    settings = Settings.from_env({"GOOGLE_APPLICATION_CREDENTIALS": f"  {text}"})
    assert settings.tts.google_credentials_json == text and settings.tts.google_credentials_path is None
    assert text in configured_secrets(settings)


@pytest.mark.parametrize("value", ["{not json", "{}}", '{"a": 1'])
def test_google_inline_credentials_that_are_not_json_stop_start_up_naming_the_variable(value):
    with pytest.raises(SettingsError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        Settings.from_env({"GOOGLE_APPLICATION_CREDENTIALS": value})


def test_provider_defaults_and_base_urls():
    tts = Settings.from_env({}).tts
    assert (tts.azure_speech_region, tts.azure_speech_base_url) == (
        "eastus",
        "https://{region}.tts.speech.microsoft.com",
    )
    assert tts.openai_base_url == "https://api.openai.com/v1" and tts.cartesia_base_url == "https://api.cartesia.ai"
    tts = Settings.from_env(
        {
            "OPENAI_BASE_URL": "http://127.0.0.1:8880/v1/",
            "AZURE_SPEECH_REGION": "westeurope",
            "CARTESIA_API_KEY": "ca",
            "AZURE_SPEECH_SUBSCRIPTION_KEY": "az",
        }
    ).tts
    assert tts.openai_base_url == "http://127.0.0.1:8880/v1" and tts.azure_speech_region == "westeurope"
    keys = Settings.from_env(
        {"CARTESIA_API_KEY": "ca-key-1", "AZURE_SPEECH_SUBSCRIPTION_KEY": "az-key-1", "OPENAI_API_KEY": "sk-key-1"}
    )
    assert {"ca-key-1", "az-key-1", "sk-key-1"} <= configured_secrets(keys)


def test_upstreams_other_spelling_of_azure_is_accepted_as_the_default_provider(make_app):
    app = make_app(
        TTS_DEFAULT_PROVIDER="microsoft-azure", AZURE_SPEECH_SUBSCRIPTION_KEY="az-key", AZURE_SPEECH_REGION="westeurope"
    )
    assert app.extensions["services"].speech.default_provider == "microsoft-azure"
