"""gunicorn's hooks for the workers' metrics (prometheus_client's multiprocess mode). gunicorn.conf.py sets
PROMETHEUS_MULTIPROC_DIR itself, before the app is imported."""

from __future__ import annotations

import os

ENV = "PROMETHEUS_MULTIPROC_DIR"


def worker_started() -> None:
    from app.services.metrics.instruments import WORKERS

    WORKERS.set(1)


def mark_worker_dead(pid: int) -> None:
    """gunicorn's child_exit: drop the dead worker's live gauges (its counters stay: they only grow)."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
