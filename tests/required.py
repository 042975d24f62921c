"""A component a test needs (a Debian package, PostgreSQL) that is missing: in CI (CI=true, as .ci/run sets)
the test fails, never skips; elsewhere it is skipped with the reason."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(message: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
