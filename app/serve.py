"""`python -m app.serve [gunicorn options]`: gunicorn with gunicorn.conf.py and wsgi:app, after checking the
settings. gunicorn itself parses WEB_CONCURRENCY when it is imported and answers a bad value with a
traceback; checked here first, every bad setting is one line and exit status 2.

gunicorn then replaces this process (exec): importing `app.serve` has imported the app, and with it
prometheus_client, which must first be imported after gunicorn.conf.py has set PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> None:
    try:
        Settings.from_env()
    except SettingsError as exc:
        sys.stderr.write(f"Invalid configuration: {exc}\n")
        raise SystemExit(2) from None
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(ROOT),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            *argv,
            "wsgi:app",
        ],
    )


if __name__ == "__main__":
    main(sys.argv[1:])
