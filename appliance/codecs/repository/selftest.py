"""A repository's codec examples, run through the sandbox and compared with what they expect.

The comparison is exact (as The Things Network's and ChirpStack's own checks are) with two
allowances: ``warnings`` and ``errors`` missing from an expected output mean "none", and keys the
expected output leaves out (``fPort``, ``warnings``) are not compared. A failing example gives
the first difference found, e.g. ``data.temperature: expected 21.5, got 21.6``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from appliance.codecs.errors import CodecError
from appliance.codecs.repository.model import Example, ExampleKind, ExampleResult
from appliance.codecs.sandbox import JSSandbox

_OPS: dict[ExampleKind, str] = {
    "uplink-decode": "decode_uplink",
    "downlink-decode": "decode_downlink",
    "downlink-encode": "encode_downlink",
}
_MAX_SHOWN = 60


def run_examples(
    sandbox: JSSandbox, script: str, examples: list[Example], *, now: datetime
) -> tuple[ExampleResult, ...]:
    return tuple(_run(sandbox, script, example, now) for example in examples)


def _run(sandbox: JSSandbox, script: str, example: Example, now: datetime) -> ExampleResult:
    def failed(reason: str) -> ExampleResult:
        return ExampleResult(example.description, example.kind, passed=False, reason=reason)

    try:
        payload = _payload(example, now)
    except ValueError as exc:
        return failed(f"unusable example input: {exc}")
    try:
        actual = sandbox.call(_OPS[example.kind], script, payload)
    except CodecError as exc:
        return failed(str(exc))
    difference = compare(example.expected, actual)
    if difference:
        return failed(difference)
    return ExampleResult(example.description, example.kind, passed=True)


def _payload(example: Example, now: datetime) -> dict[str, Any]:
    given = example.input
    variables = given.get("variables") or {}
    if not isinstance(variables, dict):
        raise ValueError("variables must be a mapping")
    if example.kind == "downlink-encode":
        return {"data": given.get("data"), "fPort": given.get("fPort"), "variables": variables}
    data = given.get("bytes")
    if not isinstance(data, list) or not all(
        isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in data
    ):
        raise ValueError("bytes must be a list of numbers 0..255")
    f_port = given.get("fPort")
    if not isinstance(f_port, int) or isinstance(f_port, bool) or not 0 <= f_port <= 255:
        raise ValueError(f"fPort {f_port!r} is not 0..255")
    payload: dict[str, Any] = {"bytes": data, "fPort": f_port, "variables": variables}
    if example.kind == "uplink-decode":
        payload["recvTime"] = _milliseconds(given.get("recvTime"), now)
    return payload


def _milliseconds(value: Any, now: datetime) -> int:
    if value is None:
        return round(now.timestamp() * 1000)
    if not isinstance(value, str):
        raise ValueError("recvTime must be an ISO 8601 time")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"recvTime {value!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise ValueError(f"recvTime {value!r} has no time zone")
    return round(when.timestamp() * 1000)


def compare(expected: dict[str, Any], actual: dict[str, Any]) -> str:
    """The first difference between an example's expected output and the codec's, or ``""``."""
    got_errors = actual.get("errors") or []
    want_errors = expected.get("errors") or []
    if got_errors and not want_errors:
        return f"the codec returned errors: {', '.join(map(str, got_errors))}"
    if want_errors or "errors" in expected:
        difference = _difference(want_errors, got_errors, "errors")
        if difference:
            return difference
    if want_errors:
        return ""  # an error example says nothing about data
    for key in ("data", "bytes", "fPort"):
        if key in expected:
            difference = _difference(expected[key], actual.get(key), key)
            if difference:
                return difference
    if "warnings" in expected:
        return _difference(expected["warnings"] or [], actual.get("warnings") or [], "warnings")
    return ""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _difference(want: Any, got: Any, path: str) -> str:
    if isinstance(want, dict) and isinstance(got, dict):
        for key in want:
            if key not in got:
                return f"{path}.{key} is missing (expected {_shown(want[key])})"
            difference = _difference(want[key], got[key], f"{path}.{key}")
            if difference:
                return difference
        extra = [key for key in got if key not in want]
        return f"{path}.{extra[0]} is not expected (got {_shown(got[extra[0]])})" if extra else ""
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return f"{path}: expected {len(want)} items, got {len(got)} ({_shown(got)})"
        for index, (w, g) in enumerate(zip(want, got, strict=True)):
            difference = _difference(w, g, f"{path}[{index}]")
            if difference:
                return difference
        return ""
    if _same_scalar(want, got):
        return ""
    return f"{path}: expected {_shown(want)}, got {_shown(got)}"


def _same_scalar(want: Any, got: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return type(want) is type(got) and want == got
    if isinstance(want, int | float) and isinstance(got, int | float):
        return want == got
    return type(want) is type(got) and want == got
