"""gunicorn settings, read from the same environment (and .env) as the app: HOST, PORT, WEB_CONCURRENCY."""

import os
import shutil
import subprocess
import sys
import tempfile

_ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _ROOT)  # gunicorn reads this before --chdir

# Before anything imports the app package (and with it prometheus_client, which picks its storage when
# first imported): the directory where the workers' metrics are written, emptied of a previous run's files.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
    _METRICS_DIR, _METRICS_DIR_OURS = os.environ["PROMETHEUS_MULTIPROC_DIR"], False
    os.makedirs(_METRICS_DIR, exist_ok=True)
    for _stale in os.listdir(_METRICS_DIR):
        if _stale.endswith(".db"):
            os.unlink(os.path.join(_METRICS_DIR, _stale))
else:
    _METRICS_DIR, _METRICS_DIR_OURS = tempfile.mkdtemp(prefix="sayna-metrics-"), True
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _METRICS_DIR

from gunicorn.glogging import Logger

from app.log import gunicorn_logconfig
from app.services.metrics import process_dir as metrics_dir
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
workers = _settings.server.workers
threads = _settings.server.threads
timeout = _settings.server.timeout_seconds
if timeout and _settings.tts.request_timeout_seconds >= timeout:  # gunicorn would kill the worker first
    _fail(
        f"TTS_REQUEST_TIMEOUT_SECONDS ({_settings.tts.request_timeout_seconds:g}) must be below "
        f"GUNICORN_TIMEOUT ({timeout})"
    )
loglevel = _settings.log_level.lower()
# gunicorn's access log would print query strings, which may carry ?api_key= (and GET /speak's text): the app
# logs requests itself (JSON, path only, with the request id).
accesslog = None


class _NoAccessLogger(Logger):
    """With `logconfig_dict` set, gunicorn writes an access line for every request even without `accesslog`
    (the query string included), formatting it first: a tenth of a cache hit's time (bench/speak.py)."""

    def access(self, resp, req, environ, request_time):
        return None


logger_class = _NoAccessLogger
errorlog = "-"
# gunicorn 25+ opens a control socket for `gunicornc` at one path per user ($HOME/.gunicorn/gunicorn.ctl): every
# instance on a host (several apps, a fleet test, parallel test runs) would fight over it, and we never use it.
control_socket_disable = True
# gunicorn's own lines (it prints a malformed request's headers) through the app's JSON formatter and redactor
logconfig_dict = gunicorn_logconfig(_settings)


def _build_app_once():
    """Build the app once in the master before forking, before gunicorn prints anything: a configuration
    that only fails when used (an unreachable database, an unknown default voice, ...) stops start-up
    here with one line, and pending migrations run once."""
    from app import create_app

    try:
        app = create_app(_settings)
    except SettingsError as exc:
        _fail(str(exc))
    app.extensions["services"].close()


_build_app_once()


def on_starting(server):
    _start_sip_provisioning(server)


def _start_sip_provisioning(server):
    """Inbound SIP trunk and dispatch rule: once per deployment, from the master, in a process of its own
    (start-up never waits for LiveKit; /ready reports `sip_provisioning` until it is done)."""
    from app.services.sip.provisioning import ProvisioningStatus, inbound_provisioning_enabled

    if not inbound_provisioning_enabled(_settings.sip, _settings.livekit):
        return
    ProvisioningStatus(_settings.data_dir).write("pending", "not provisioned yet")  # not a previous run's state
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")]))}
    server.sip_provisioning = subprocess.Popen([sys.executable, "-m", "app.services.sip.provisioning"], env=environment)


def post_fork(server, worker):
    metrics_dir.worker_started()


def child_exit(server, worker):
    metrics_dir.mark_worker_dead(worker.pid)


def on_exit(server):
    if _METRICS_DIR_OURS:
        shutil.rmtree(_METRICS_DIR, ignore_errors=True)
    provisioning = getattr(server, "sip_provisioning", None)
    if provisioning is not None and provisioning.poll() is None:
        provisioning.terminate()
        try:
            provisioning.wait(timeout=5)
        except subprocess.TimeoutExpired:
            provisioning.kill()
