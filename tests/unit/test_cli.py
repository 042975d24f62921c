"""`flask cache …` through Flask's CLI runner, on a real app and database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args, **kwargs: runner.invoke(args=["cache", *args], **kwargs)


@pytest.fixture
def prompts(tmp_path):
    def write(*lines: str) -> str:
        path = tmp_path / "prompts.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(path)

    return write


def _entries(cli) -> int:
    result = cli("stats", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["entries"]


def test_warm_then_stats(cli, prompts):
    result = cli("warm", prompts("# greetings", "Hello there", "", '{"text": "Goodbye", "audio_format": "wav"}'))
    assert result.exit_code == 0, result.output
    assert "2 prompts: 2 synthesized, 0 already cached, 0 failed" in result.output
    assert _entries(cli) == 2
    assert "entries:  2" in cli("stats").output


def test_clear_asks_for_confirmation_unless_yes(cli, prompts):
    cli("warm", prompts("One", "Two"))
    refused = cli("clear", input="n\n")
    assert refused.exit_code == 1 and "Remove every cached entry?" in refused.output and "Aborted" in refused.output
    assert _entries(cli) == 2
    confirmed = cli("clear", "--provider", "local", input="y\n")
    assert confirmed.exit_code == 0 and "removed 2 entries" in confirmed.output
    cli("warm", prompts("Three"))
    assert cli("clear", "--yes").exit_code == 0 and _entries(cli) == 0


def test_clear_of_an_unknown_provider_is_an_error(cli, prompts):
    cli("warm", prompts("Kept"))
    result = cli("clear", "--provider", "acme", "--yes")
    assert result.exit_code == 2
    assert "Invalid value for --provider: unknown provider 'acme' (expected one of local," in result.output
    assert _entries(cli) == 1


def test_warm_fails_once_up_front_when_the_provider_is_not_configured(cli, prompts):
    result = cli("warm", prompts("One", "Two", "Three"), "--provider", "deepgram")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: deepgram is not configured: set its API key (see the README), or pick another --provider"
    )
    assert _entries(cli) == 0


def test_warm_names_each_bad_line_with_a_readable_message(cli, prompts):
    result = cli(
        "warm",
        prompts(
            '{"text": "fine"}',
            '{"text": "broken",',
            '{"text": ""}',
            '{"text": "x", "sample_rate": "fast"}',
            '{"voice_id": "gmw/en-US"}',
            '{"text": "x", "voice_id": "elvish"}',
        ),
    )
    assert result.exit_code == 1
    assert "6 prompts: 1 synthesized, 0 already cached, 5 failed" in result.output
    for expected in (
        "line 2: not valid JSON (Expecting property name enclosed in double quotes at column 19)",
        "line 3: Text cannot be empty",
        "line 4: sample_rate: Not a valid integer.",
        "line 5: text: Missing data for required field.",
        "line 6: local: unknown voice 'elvish' (see GET /voices)",
    ):
        assert expected in result.output, result.output


def test_the_cli_prints_no_log_chatter(tmp_path, database_url):
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url, "LOG_LEVEL": "INFO"}
    for args in (["--help"], ["cache", "stats"]):
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    assert "entries:  0" in result.stdout


def test_warm_merges_the_nested_form_as_the_api_does(cli, prompts, app):
    """The nested form's fields win over the flat ones, in a prompt as in a POST /speak body: both
    prompts below are one cache entry, the one the API answers from for the nested request."""
    nested = {"text": "Same words", "audio_format": "linear16", "tts_config": {"audio_format": "wav"}}
    result = cli("warm", prompts(json.dumps(nested), '{"text": "Same words", "audio_format": "wav"}'))
    assert result.exit_code == 0, result.output
    assert "2 prompts: 1 synthesized, 1 already cached, 0 failed" in result.output
    answer = app.test_client().post("/speak", json=nested, headers={"Accept": "application/json"})
    assert answer.get_json()["metadata"]["cached"] is True and answer.get_json()["metadata"]["audio_format"] == "wav"
