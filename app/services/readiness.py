"""Dependency checks for readiness probes. Failures name the dependency, never a URL or password."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from app.db import Database


def check_readiness(
    database: Database, cache_dir: Path, sip_provisioning: Callable[[], str] | None = None
) -> dict[str, str]:
    checks = {"database": _check_database(database), "cache": _check_writable(cache_dir)}
    if sip_provisioning is not None:  # only when inbound SIP is configured
        checks["sip_provisioning"] = sip_provisioning()
    return checks


def _check_database(database: Database) -> str:
    try:
        database.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_writable(directory: Path) -> str:
    problem = writable_problem(directory)
    return f"error: {problem}" if problem else "ok"


def writable_problem(directory: Path) -> str | None:
    """None when `directory` exists (created if needed) and a file can be written in it; else why not."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix=".ready-")
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None
