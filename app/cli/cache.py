"""`flask cache stats|clear|prune|warm`: look after the synthesis cache from the command line."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from marshmallow import ValidationError

from app.api.errors import validation_message
from app.api.speak.schemas import SpeakRequestSchema
from app.errors import ApiError
from app.extensions import services
from app.services.tts import SpeechOrder

cache_cli = AppGroup("cache", help="Inspect, clear, prune and warm the synthesis cache.")


def register_cache_cli(app: Flask) -> None:
    app.cli.add_command(cache_cli)


@cache_cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def stats(as_json: bool) -> None:
    """Entries, size, hits and expired entries, per provider."""
    report = services().cache.stats()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"cache:    {report['store']} ({'enabled' if report['enabled'] else 'DISABLED'})")
    if report["local_copy"]:
        local = report["local_copy"]
        click.echo(f"local:    {report['path']} ({_size(local['bytes'])} of {_size(local['max_bytes'])} on this host)")
    click.echo(
        f"entries:  {report['entries']} ({_size(report['bytes'])} of "
        f"{_size(report['max_bytes']) if report['max_bytes'] else 'unlimited'})"
    )
    click.echo(f"hits:     {report['hits']}")
    click.echo(f"expired:  {report['expired']} (removed by `flask cache prune`)")
    click.echo(f"oldest:   {report['oldest'] or '-'}")
    click.echo(f"newest:   {report['newest'] or '-'}")
    for provider, figures in report["providers"].items():
        click.echo(
            f"  {provider:<12} {figures['entries']:>8} entries {_size(figures['bytes']):>10} {figures['hits']:>8} hits"
        )


@cache_cli.command("clear")
@click.option("--provider", help="Only this provider's entries (e.g. after rotating its key or voices).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def clear(provider: str | None, yes: bool) -> None:
    """Remove every entry, or one provider's."""
    provider = _known_provider(provider, "--provider") if provider else None
    if not yes:
        click.confirm(f"Remove every cached entry{f' of {provider}' if provider else ''}?", abort=True)
    entries, size = services().cache.clear(provider)
    click.echo(f"removed {entries} entries ({_size(size)})" + (f" of {provider}" if provider else ""))


@cache_cli.command("prune")
def prune() -> None:
    """Remove expired entries, broken entries and leftovers, and evict down to CACHE_MAX_BYTES."""
    report = services().cache.prune()
    click.echo(", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in report.items()))


@cache_cli.command("warm")
@click.argument("prompts", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", help="Provider for prompts that do not name one (default: TTS_DEFAULT_PROVIDER).")
@click.option("--voice", "voice_id", help="Voice for prompts that do not name one.")
@click.option("--model", help="Model for prompts that do not name one.")
@click.option("--format", "audio_format", help="Audio format for prompts that do not name one.")
@click.option("--sample-rate", type=int, help="Sample rate for prompts that do not name one.")
def warm(prompts: Path, provider, voice_id, model, audio_format, sample_rate) -> None:
    """Synthesize every prompt of PROMPTS into the cache.

    One prompt per line: plain text, or a JSON object with the fields of POST /speak's flat form
    (text, provider, voice_id, model, audio_format, sample_rate, speaking_rate, voice_settings,
    pronunciations). Blank lines and lines starting with # are skipped."""
    speech = services().speech
    slug = _known_provider(provider, "--provider") if provider else speech.default_provider
    if not speech.providers[slug].configured:
        raise click.ClickException(
            f"{slug} is not configured: set its API key (see the README), or pick another --provider"
        )
    defaults = {
        "provider": provider,
        "voice_id": voice_id,
        "model": model,
        "audio_format": audio_format,
        "sample_rate": sample_rate,
    }
    lines = [
        (number, line.strip())
        for number, line in enumerate(prompts.read_text(encoding="utf-8").splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    synthesized = cached = 0
    failures: list[str] = []
    with click.progressbar(lines, label="warming", show_pos=True) as bar:
        for number, line in bar:
            try:
                result = speech.speak(_order(line, defaults))
            except ApiError as exc:
                failures.append(f"line {number}: {exc.message}")
                continue
            except ValueError as exc:
                failures.append(f"line {number}: {exc}")
                continue
            cached += result.cached
            synthesized += not result.cached
    services().cache.settle()
    click.echo(f"{len(lines)} prompts: {synthesized} synthesized, {cached} already cached, {len(failures)} failed")
    for failure in failures:
        click.echo(failure, err=True)
    if failures:
        raise SystemExit(1)


def _known_provider(name: str, option: str) -> str:
    slug = name.strip().lower()
    providers = services().speech.providers
    if slug not in providers:
        raise click.BadParameter(
            f"unknown provider '{name}' (expected one of {', '.join(providers)})", param_hint=option
        )
    return slug


_PROMPT_SCHEMA = SpeakRequestSchema()


def _order(line: str, defaults: dict) -> SpeechOrder:
    """A prompt line, validated like a POST /speak body: ValueError names what is wrong."""
    if line.startswith("{"):
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    else:
        raw = {"text": line}
    try:
        order = _PROMPT_SCHEMA.load(raw).order
    except ValidationError as exc:
        raise ValueError(validation_message(exc.messages)) from None
    return replace(
        order,
        **{name: default for name, default in defaults.items() if default is not None and getattr(order, name) is None},
    )


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)
