"""`python -m app.serve [gunicorn options]`: gunicorn with gunicorn.conf.py and wsgi:app, after checking the
settings. gunicorn itself parses WEB_CONCURRENCY when it is imported and answers a bad value with a
traceback; checked here first, every bad setting is one line and exit status 2."""

from __future__ import annotations

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
    from gunicorn.app.wsgiapp import run

    sys.argv = ["gunicorn", "--chdir", str(ROOT), "--config", str(ROOT / "gunicorn.conf.py"), *argv, "wsgi:app"]
    run()


if __name__ == "__main__":
    main(sys.argv[1:])
