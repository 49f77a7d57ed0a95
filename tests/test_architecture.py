"""Layering rules that import-linter cannot express alone."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _contracts() -> list[dict[str, object]]:
    document = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = document["tool"]["importlinter"]["contracts"]
    return contracts


@pytest.mark.parametrize("source", ["hal", "appliance.devicesim"])
def test_contract_forbids_every_appliance_subpackage_but_the_protocol_core(source: str) -> None:
    # import-linter cannot say "everything except", so the lists are kept complete by this test.
    contract = next(c for c in _contracts() if c.get("source_modules") == [source])
    forbidden = set(contract["forbidden_modules"])  # type: ignore[call-overload]
    children = {
        f"appliance.{path.stem if path.is_file() else path.name}"
        for path in (ROOT / "appliance").iterdir()
        if (path.is_dir() and (path / "__init__.py").exists())
        or (path.suffix == ".py" and path.stem not in ("__init__", "__main__"))
    }
    missing = children - forbidden - {"appliance.lorawan", source}
    assert not missing, f"add {sorted(missing)} to the {source} contract in pyproject.toml"


def test_protocol_core_loads_without_the_rest_of_the_project() -> None:
    code = (
        "import sys, appliance.lorawan.codec, appliance.lorawan.security, "
        "appliance.lorawan.maccommands, appliance.lorawan.regions, appliance.lorawan.airtime\n"
        "bad = sorted(m for m in sys.modules if (m.startswith(('appliance.', 'hal', 'tui'))"
        " and not m.startswith('appliance.lorawan'))"
        " or m.split('.')[0] in ('textual', 'asyncio'))\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


_IO_AND_CLOCK_MODULES = {
    "asyncio",
    "datetime",
    "os",
    "pathlib",
    "random",
    "secrets",
    "socket",
    "sqlite3",
    "subprocess",
    "threading",
    "time",
}


def test_protocol_core_has_no_io_and_no_clock() -> None:
    # Time and randomness are inputs of the protocol core: callers pass `now` and nonces.
    offenders = []
    for path in sorted((ROOT / "appliance" / "lorawan").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
                for name in names
                if name.split(".")[0] in _IO_AND_CLOCK_MODULES
            ]
    assert not offenders, "\n".join(offenders)
