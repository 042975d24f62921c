"""The directory where gunicorn workers write their metrics (prometheus_client's multiprocess mode).
Called from gunicorn.conf.py; the app itself only reads PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
_created: Path | None = None  # the temporary directory `prepare` made, removed by `remove`


def prepare() -> Path:
    """Before anything imports prometheus_client: use PROMETHEUS_MULTIPROC_DIR, emptied of a previous run's
    files (stale counters would be added to ours), or a new temporary directory removed by `remove`."""
    global _created
    configured = os.environ.get(ENV, "").strip()
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="sayna-metrics-"))
        os.environ[ENV] = str(directory)
        _created = directory
    return directory


def worker_started() -> None:
    from app.services.metrics.instruments import WORKERS

    WORKERS.set(1)


def mark_worker_dead(pid: int) -> None:
    """gunicorn's child_exit: drop the dead worker's live gauges (its counters stay: they only grow)."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def remove() -> None:
    """gunicorn's on_exit: delete the directory if `prepare` created it."""
    if _created is not None:
        shutil.rmtree(_created, ignore_errors=True)
