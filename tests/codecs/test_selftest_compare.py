"""How an example's expected output is compared with what the codec returned."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.codecs.repository.selftest import compare

DECODED = {"data": {"t": 21.5, "ok": True, "list": [1, 2]}, "warnings": [], "errors": []}
ENCODED = {"bytes": [1, 2], "fPort": 10, "warnings": ["w"], "errors": []}
FAILED = {"data": None, "warnings": [], "errors": ["unknown FPort"]}


@pytest.mark.parametrize(
    ("expected", "actual", "difference"),
    [
        ({"data": {"t": 21.5, "ok": True, "list": [1, 2]}}, DECODED, ""),
        ({"data": {"t": 21.5, "ok": True, "list": [1, 2]}, "warnings": []}, DECODED, ""),
        (
            {"data": {"t": 21.6, "ok": True, "list": [1, 2]}},
            DECODED,
            "data.t: expected 21.6, got 21.5",
        ),
        ({"data": {"t": 21.5, "ok": 1, "list": [1, 2]}}, DECODED, "data.ok: expected 1, got True"),
        ({"data": {"t": 21.5, "list": [1, 2]}}, DECODED, "data.ok is not expected (got True)"),
        (
            {"data": {"t": 21.5, "ok": True, "list": [1, 2], "x": 0}},
            DECODED,
            "data.x is missing (expected 0)",
        ),
        (
            {"data": {"t": 21.5, "ok": True, "list": [1]}},
            DECODED,
            "data.list: expected 1 items, got 2 ([1, 2])",
        ),
        (
            {"data": {"t": 21.5, "ok": True, "list": [1, 3]}},
            DECODED,
            "data.list[1]: expected 3, got 2",
        ),
        (
            {"data": {"t": 21.5, "ok": True, "list": [1, 2]}, "warnings": ["w"]},
            DECODED,
            "warnings: expected 1 items, got 0 ([])",
        ),
        ({"errors": ["unknown FPort"]}, FAILED, ""),
        ({"errors": ["other"]}, FAILED, "errors[0]: expected 'other', got 'unknown FPort'"),
        ({"data": {}}, FAILED, "the codec returned errors: unknown FPort"),
        ({"errors": ["unknown FPort"]}, DECODED, "errors: expected 1 items, got 0 ([])"),
        ({"bytes": [1, 2], "fPort": 10}, ENCODED, ""),
        ({"bytes": [1, 2]}, ENCODED, ""),
        ({"bytes": [1, 2], "fPort": 11}, ENCODED, "fPort: expected 11, got 10"),
        ({"bytes": [1, 2.0]}, ENCODED, ""),
        (
            {"data": {"t": 21.5, "ok": True, "list": "x" * 100}},
            DECODED,
            "data.list: expected 'xxxx",
        ),
    ],
)
def test_compare(expected: dict[str, Any], actual: dict[str, Any], difference: str) -> None:
    found = compare(expected, actual)
    assert found.startswith(difference) if difference else found == ""
    assert len(found) < 200
