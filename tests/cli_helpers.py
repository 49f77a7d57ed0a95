"""Run the real ``appliance`` command in a subprocess, as a user would."""

from __future__ import annotations

import contextlib
import io
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


def in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """The same command through its entry point (``appliance.cli.main.main``, which
    ``python -m appliance`` calls) in this process, from the same directory: its exit code,
    stdout and stderr, without a subprocess's Python start-up and CLI imports (over a second
    a call). Each test module keeps real subprocesses for what only a process shows."""
    from appliance.cli.main import main  # noqa: PLC0415 - the CLI's imports, only when used

    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's usage errors, --help and --version
            if isinstance(exit_.code, str):
                print(exit_.code, file=sys.stderr)
                code = 1
            else:
                code = exit_.code or 0
    return subprocess.CompletedProcess(["appliance", *args], code, out.getvalue(), err.getvalue())


def in_process_json(*args: str) -> Any:
    result = in_process(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_usage_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    """Exit code 2, nothing on stdout, one line on stderr that says what is wrong."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr
