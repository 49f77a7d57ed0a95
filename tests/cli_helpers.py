"""Run the real ``appliance`` command in a subprocess, as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def appliance(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def appliance_json(*args: str) -> Any:
    result = appliance(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_usage_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    """Exit code 2, nothing on stdout, one line on stderr that says what is wrong."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr
