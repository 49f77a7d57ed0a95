"""Access to the published test vectors kept in tests/data (each names its source)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PATH = Path(__file__).resolve().parent.parent / "data" / "lorawan-vectors.json"


@cache
def _all() -> dict[str, dict[str, Any]]:
    document = json.loads(_PATH.read_text())
    return {vector["id"]: vector for vector in document["vectors"]}


def vector(vector_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(inputs, expected) of one vector."""
    found = _all()[vector_id]
    return found["inputs"], found["expected"]


def ids() -> list[str]:
    return list(_all())
