"""Fixtures shared by every test: settings and apps on SQLite or PostgreSQL, and shared BDD steps.

Set TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run every DB-touching test
on PostgreSQL; the run then fails, never skips, when that server is absent. Set TEST_CACHE_BACKEND=s3 to
give every app a test builds (in-process or gunicorn) the synthesis cache on S3, moto's server here."""

from __future__ import annotations

import os

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.settings import Settings
from tests import cache_backend

pytest_plugins = ["tests.steps.common", "tests.fakes.s3"]  # s3_server: the cache on S3 (TEST_CACHE_BACKEND)

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


def _reset_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")


@pytest.fixture(scope="session", autouse=True)
def cache_storage(request) -> str:
    """TEST_CACHE_BACKEND: with s3, one bucket on moto for the session (each test has its own prefix)."""
    backend = cache_backend.chosen()
    if backend == "s3":
        server = request.getfixturevalue("s3_server")
        cache_backend.use_bucket(server.url, server.new_bucket())
    return backend


@pytest.fixture
def database_url(tmp_path) -> str:
    if POSTGRES_URL:
        _reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite:///{tmp_path / 'sayna.db'}"


@pytest.fixture
def database(database_url, tmp_path):
    """The app's database, migrated to head, for services tested without an app."""
    from app.db import Database
    from app.db.migrate import upgrade_to_head

    db = Database(database_url)
    upgrade_to_head(db, tmp_path / ".migrate.lock")
    yield db
    db.dispose()


@pytest.fixture
def base_env(tmp_path, database_url) -> dict[str, str]:
    """The embedded defaults, inside this test's own temp dir. SIP hooks may point at the fakes on
    127.0.0.1 (and at example.com names that need no DNS)."""
    return {
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "SIP_HOOKS_ALLOW_PRIVATE": "true",
        **cache_backend.cache_env(tmp_path),
    }


@pytest.fixture
def make_settings(base_env):
    def build(**env: str) -> Settings:
        return Settings.from_env({**base_env, **env})

    return build


class ReadingClient(FlaskClient):
    """Reads every answer whole and closes it, as a WSGI server does for a client that reads the answer:
    a streamed miss is committed to the cache by reading it to its end (werkzeug's client would leave it
    unread, its entry pending)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def make_app(make_settings):
    apps = []

    def build(**env: str):
        app = create_app(make_settings(**env))
        app.config["TESTING"] = True
        app.test_client_class = ReadingClient
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["services"].close()


@pytest.fixture(scope="session")
def livekit_server():
    """One fake LiveKit server for the whole run; `livekit` gives each test a clean one."""
    from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET, FakeLiveKit
    from tests.fakes.server import FakeServer

    fake = FakeLiveKit(TEST_API_KEY, TEST_API_SECRET)
    with FakeServer(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def livekit(livekit_server):
    livekit_server.reset()
    return livekit_server


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
