"""Checks run once when the app is built, so a bad setting stops start-up with one line naming the
variable instead of failing the first caller: paths writable, database reachable, default provider and
voice usable. Each raises SettingsError."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from app.db import Database
from app.services.readiness import writable_problem
from app.services.tts.registry import canonical_slug
from app.settings import Settings, SettingsError


def writable_directories(settings: Settings) -> dict[str, Path]:
    """Every directory the server needs to write to, by the variable that names it. RECORDING_PATH is not
    one: recordings may sit on a mount that comes and goes, which the recording store answers with 503."""
    directories = {"DATA_DIR": settings.data_dir}
    if settings.cache.enabled:
        directories["CACHE_PATH"] = settings.cache.path
    return directories


def ensure_writable_directories(settings: Settings) -> None:
    for variable, directory in writable_directories(settings).items():
        problem = writable_problem(directory)
        if problem:
            raise SettingsError(f"{variable}: {directory} is not a writable directory ({problem})")


def open_database(url: str) -> Database:
    """The database, reached once; the message never carries the URL's password."""
    try:
        database = Database(url)
    except (ArgumentError, ValueError) as exc:
        raise SettingsError(f"DATABASE_URL is not a usable database URL ({type(exc).__name__})") from None
    except ImportError as exc:
        raise SettingsError(f"DATABASE_URL needs a database driver that is not installed ({exc.name})") from None
    try:
        database.ping()
    except SQLAlchemyError as exc:
        database.dispose()
        raise SettingsError(
            f"DATABASE_URL: cannot reach the database at {_where(url)} ({_first_line(exc, url)})"
        ) from None
    return database


def check_default_speech(settings: Settings, providers: dict) -> None:
    """TTS_DEFAULT_PROVIDER names a provider with its credentials; LOCAL_TTS_VOICE is a voice espeak has."""
    slug = canonical_slug(settings.tts.default_provider)
    provider = providers.get(slug)
    if provider is None:
        raise SettingsError(f"TTS_DEFAULT_PROVIDER '{slug}' is not a provider (expected one of {', '.join(providers)})")
    if not provider.configured:
        raise SettingsError(f"TTS_DEFAULT_PROVIDER '{slug}' is not configured (set its API key)")
    if not providers["local"].has_voice(settings.tts.local_voice):
        raise SettingsError(
            f"LOCAL_TTS_VOICE '{settings.tts.local_voice}' is not an espeak-ng voice "
            "(any id of GET /voices' local list, or a language tag such as en-us)"
        )


def _where(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "?"
    if parsed.drivername.startswith("sqlite"):
        return parsed.database or ":memory:"
    return f"{parsed.host or 'localhost'}:{parsed.port or ''}/{parsed.database or ''}".replace(":/", "/")


def _first_line(exc: SQLAlchemyError, url: str) -> str:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    line = detail[0] if detail else type(exc).__name__
    password = _password(url)
    return line.replace(password, "***") if password else line


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except ArgumentError:
        return None
