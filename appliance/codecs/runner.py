"""``CodecRunner``: the asyncio face of the codec layer, used by the application server."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from appliance.codecs import cayenne_lpp
from appliance.codecs.errors import CodecError
from appliance.codecs.jsonsafe import check_json_value, check_messages
from appliance.codecs.model import CodecSpec, DecodeResult, EncodeResult
from appliance.codecs.sandbox import DEFAULT_MEMORY_LIMIT, DEFAULT_TIME_LIMIT, JSSandbox


class CodecRunner:
    """Decodes uplinks and encodes downlinks with the codec a device profile names.

    Cayenne LPP runs inline (microseconds); JavaScript runs in ``JSSandbox`` processes, called
    from a thread pool so the event loop never waits on a script. At most ``max_pending`` calls
    wait at once; beyond that a call fails at once with ``CodecError(kind="busy")`` rather than
    queueing without bound behind a slow script.
    """

    def __init__(
        self,
        *,
        workers: int = 2,
        time_limit: float = DEFAULT_TIME_LIMIT,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        max_pending: int = 1024,
        sandbox: JSSandbox | None = None,
    ) -> None:
        self.sandbox = sandbox or JSSandbox(
            workers=workers, time_limit=time_limit, memory_limit=memory_limit
        )
        self._owns_sandbox = sandbox is None
        self._executor = ThreadPoolExecutor(
            max_workers=self.sandbox.workers, thread_name_prefix="codec"
        )
        self.max_pending = max_pending
        self._pending = 0
        self._closed = False

    async def start(self) -> None:
        """Start the sandbox processes now, so the first uplink does not wait for them."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self.sandbox.start)

    async def decode_uplink(
        self,
        spec: CodecSpec,
        *,
        f_port: int,
        data: bytes,
        recv_time: datetime,
        variables: Mapping[str, str] | None = None,
    ) -> DecodeResult | None:
        """The decoded object, or ``None`` when the profile has no codec (runtime ``none``)."""
        _check_port(f_port)
        if spec.runtime == "none":
            return None
        if spec.runtime == "cayenne_lpp":
            return DecodeResult(cayenne_lpp.decode(data))
        if recv_time.tzinfo is None:
            raise ValueError("recv_time must be timezone-aware")
        payload = {
            "bytes": list(data),
            "fPort": f_port,
            "recvTime": round(recv_time.timestamp() * 1000),
            "variables": _variables(variables),
        }
        return decode_result(await self._js("decode_uplink", spec.script, payload), "decodeUplink")

    async def decode_downlink(
        self,
        spec: CodecSpec,
        *,
        f_port: int,
        data: bytes,
        variables: Mapping[str, str] | None = None,
    ) -> DecodeResult | None:
        """A downlink's bytes as an object (The Things Stack's ``decodeDownlink``)."""
        _check_port(f_port)
        if spec.runtime == "none":
            return None
        if spec.runtime == "cayenne_lpp":
            return DecodeResult(cayenne_lpp.decode(data))
        payload = {"bytes": list(data), "fPort": f_port, "variables": _variables(variables)}
        result = await self._js("decode_downlink", spec.script, payload)
        return decode_result(result, "decodeDownlink")

    async def encode_downlink(
        self,
        spec: CodecSpec,
        *,
        f_port: int | None,
        obj: dict[str, Any],
        variables: Mapping[str, str] | None = None,
    ) -> EncodeResult:
        """``obj`` as a downlink payload; ``f_port`` is the requested port, if any."""
        if f_port is not None:
            _check_port(f_port)
        if spec.runtime == "none":
            raise CodecError(
                "the device profile has no payload codec, so a downlink must be given as bytes",
                kind="payload",
            )
        if not isinstance(obj, dict):
            raise CodecError("the downlink object must be a JSON object", kind="payload")
        check_json_value(obj, "object", kind="payload")
        if spec.runtime == "cayenne_lpp":
            return EncodeResult(cayenne_lpp.encode(obj))
        payload = {"data": obj, "fPort": f_port, "variables": _variables(variables)}
        return encode_result(await self._js("encode_downlink", spec.script, payload))

    async def _js(self, op: str, script: str, payload: dict[str, Any]) -> Any:
        if self._closed:
            raise CodecError("the codec runner is closed", kind="closed")
        if self._pending >= self.max_pending:
            raise CodecError(
                f"{self._pending} codec calls are already waiting; this one was refused",
                kind="busy",
            )
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, self.sandbox.call, op, script, payload
            )
        finally:
            self._pending -= 1

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._owns_sandbox:
            self.sandbox.close()
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown)

    async def __aenter__(self) -> CodecRunner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def decode_result(result: Any, function: str) -> DecodeResult:
    """The harness's answer to a decode, checked: ``errors`` become a ``CodecError``."""
    if not isinstance(result, dict):
        raise CodecError(f"{function} gave no result object", kind="output")
    errors = check_messages(result.get("errors"), "errors")
    if errors:
        raise CodecError(f"{function} returned errors: {', '.join(errors)}", kind="script")
    data = result.get("data")
    if not isinstance(data, dict):
        raise CodecError(f"{function} returned no data object", kind="output")
    check_json_value(data, "data")
    return DecodeResult(data, check_messages(result.get("warnings"), "warnings"))


def encode_result(result: Any) -> EncodeResult:
    """The harness's answer to an encode, checked again on this side of the pipe."""
    if not isinstance(result, dict):
        raise CodecError("encodeDownlink gave no result object", kind="output")
    errors = check_messages(result.get("errors"), "errors")
    if errors:
        raise CodecError(f"encodeDownlink returned errors: {', '.join(errors)}", kind="script")
    raw = result.get("bytes")
    if (
        not isinstance(raw, list)
        or len(raw) > 255
        or not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in raw)
    ):
        raise CodecError("encodeDownlink returned no valid list of bytes", kind="output")
    f_port = result.get("fPort")
    if f_port is not None and (
        not isinstance(f_port, int) or isinstance(f_port, bool) or not 1 <= f_port <= 223
    ):
        raise CodecError(f"encodeDownlink returned fPort {f_port!r}, not 1..223", kind="output")
    return EncodeResult(bytes(raw), f_port, check_messages(result.get("warnings"), "warnings"))


def _check_port(f_port: int) -> None:
    if isinstance(f_port, bool) or not isinstance(f_port, int) or not 0 <= f_port <= 255:
        raise CodecError(f"fPort {f_port!r} is not 0..255", kind="payload")


def _variables(variables: Mapping[str, str] | None) -> dict[str, str]:
    out = dict(variables or {})
    for key, value in out.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise CodecError(f"variable {key!r} must map a string to a string", kind="payload")
    return out
