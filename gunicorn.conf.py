"""gunicorn settings, read from the same environment (and .env) as the app: HOST, PORT, WEB_CONCURRENCY."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # gunicorn reads this before --chdir

from app.log import gunicorn_logconfig
from app.settings import Settings, SettingsError


def _fail(message: str):
    sys.stderr.write(f"Invalid configuration: {message}\n")
    sys.stderr.flush()
    os._exit(2)


try:
    _settings = Settings.from_env()
except SettingsError as exc:
    _fail(str(exc))

bind = f"{_settings.host}:{_settings.port}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
if _settings.tts.request_timeout_seconds >= timeout:  # gunicorn would kill the worker before our deadline
    _fail(f"TTS_REQUEST_TIMEOUT_SECONDS ({_settings.tts.request_timeout_seconds:g}) must be below "
          f"GUNICORN_TIMEOUT ({timeout})")
# gunicorn's access log would print query strings, which may carry ?api_key=: the app logs requests
# itself (JSON, path only, with the request id).
accesslog = None
errorlog = "-"
# gunicorn's own lines (it prints a malformed request's headers) through the app's JSON formatter and redactor
logconfig_dict = gunicorn_logconfig(_settings)


def on_starting(server):
    """Build the app once in the master before forking: a configuration that only fails when used
    (an unreadable signing key, ...) stops start-up here, and pending migrations run once."""
    from app import create_app

    try:
        app = create_app(_settings)
    except SettingsError as exc:
        _fail(str(exc))
    app.extensions["services"].close()
