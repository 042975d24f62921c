"""The README's sayna-client snippet, run as written against a live server (only its URL changed)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.fakes.server import FakeServer

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_python_snippet_speaks_against_the_local_server(make_app, tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    snippet = next(block for block in blocks if "from sayna_client import" in block)
    with FakeServer(make_app()) as server:
        script = snippet.replace("http://localhost:3001", server.url)
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"\d+ offline voices", lines[0]) and int(lines[0].split()[0]) > 100
    assert re.fullmatch(r"MISS \d+ bytes in welcome.wav", lines[1])
    assert (tmp_path / "welcome.wav").read_bytes()[:4] == b"RIFF"
