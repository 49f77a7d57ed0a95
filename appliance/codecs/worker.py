"""The codec sandbox process: ``python -m appliance.codecs.worker``, started by ``JSSandbox``.

It reads requests on stdin and answers on stdout (``wire`` frames), one at a time. Each script
gets its own QuickJS runtime (so its own memory limit), loaded once with the ``Buffer`` and
harness prelude and kept in a small LRU by the script's SHA-256. QuickJS has no file, network
or process API unless the embedder adds one, and nothing is added here. A script that ran out of
memory, was interrupted or made the engine fail loses its runtime: the next call loads it afresh,
so nothing it piled up survives.

Requests: ``{"op", "hash", "script"?, "input", "time_limit", "memory_limit"}`` for the codec
operations (``decode_uplink``, ``decode_downlink``, ``encode_downlink``) and ``{"op":
"evaluate", "source", ...}`` to turn a JavaScript literal (a test-vector file) into JSON.
Answers: ``{"result": ...}``, ``{"error": "one line", "kind": ...}`` or ``{"need_script": true}``
when the runtime for that hash is not loaded.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import re
import resource
import select
import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from appliance.codecs.errors import one_line
from appliance.codecs.js_buffer import BUFFER_JS
from appliance.codecs.js_harness import HARNESS_JS
from appliance.codecs.wire import (
    WireError,
    pack,
    pack_result_json,
    read_frame,
    script_hash,
    write_all,
)

CODEC_OPS = frozenset({"decode_uplink", "decode_downlink", "encode_downlink"})
MAX_STACK = 256 * 1024  # bytes of JavaScript stack; deep recursion fails well before the C stack
GC_WHEN_IDLE_AFTER = 32  # calls; a collection waits for a moment with no request waiting
GC_ALWAYS_AFTER = 1024
_LINE = re.compile(r"<input>:(\d+)")


class ScriptFailureError(Exception):
    def __init__(self, message: str, kind: str, *, fatal: bool) -> None:
        super().__init__(message)
        self.message, self.kind, self.fatal = message, kind, fatal


@dataclass(frozen=True, slots=True)
class RawResult:
    """A result already in JSON, sent on without parsing it again."""

    json_text: str


@dataclass(slots=True)
class Loaded:
    context: Any
    run: Any
    memory_limit: int
    calls_since_gc: int = 0


def _describe(
    engine: Any, exc: BaseException, *, time_limit: float, memory_limit: int
) -> ScriptFailureError:
    text = str(exc)
    first = text.split("\n", 1)[0]
    if isinstance(exc, engine.StackOverflow) or "call stack size exceeded" in first:
        return ScriptFailureError("stack overflow (recursion too deep)", "script", fatal=False)
    if first == "InternalError: interrupted":
        return ScriptFailureError(
            f"timed out after {time_limit * 1000:g} ms", "timeout", fatal=True
        )
    if first in ("InternalError: out of memory", "null", "[uninitialized]"):
        # QuickJS throws a bare null when the heap is too full to build an error object.
        mib = memory_limit / (1024 * 1024)
        return ScriptFailureError(f"ran out of its {mib:g} MiB memory limit", "memory", fatal=True)
    if isinstance(exc, engine.JSException):
        line = _LINE.search(text)
        where = f" (line {line.group(1)})" if line else ""
        return ScriptFailureError(one_line(first) + where, "script", fatal=True)
    return ScriptFailureError(
        f"the engine failed: {type(exc).__name__}: {exc}", "script", fatal=True
    )


class Engine:
    """The loaded scripts of this process and the calls into them."""

    def __init__(self, quickjs: Any, *, max_scripts: int = 64) -> None:
        self.quickjs = quickjs
        self.max_scripts = max_scripts
        self.loaded: OrderedDict[str, Loaded] = OrderedDict()
        self.dropped = False

    def handle(self, request: dict[str, Any]) -> dict[str, Any] | RawResult:
        response = self._handle(request)
        if self.dropped:
            # A dropped runtime can still be held by an exception's traceback (a reference
            # cycle): collect now, so its heap is freed before the next call, not "eventually".
            self.dropped = False
            gc.collect()
        return response

    def _handle(self, request: dict[str, Any]) -> dict[str, Any] | RawResult:
        op = request.get("op")
        try:
            time_limit = float(request["time_limit"])
            memory_limit = int(request["memory_limit"])
            if op == "evaluate":
                return {"result": self._evaluate(str(request["source"]), time_limit, memory_limit)}
            if op not in CODEC_OPS:
                return {"error": f"unknown operation {op!r}", "kind": "script"}
            return self._call(request, str(op), time_limit, memory_limit)
        except ScriptFailureError as failure:
            self.dropped = True  # the runtime it came from may be in the traceback's frames
            return {"error": failure.message, "kind": failure.kind}
        except (KeyError, TypeError, ValueError) as exc:
            return {"error": f"a malformed request: {exc!r}", "kind": "worker"}

    def _call(
        self, request: dict[str, Any], op: str, time_limit: float, memory_limit: int
    ) -> dict[str, Any] | RawResult:
        key = str(request["hash"])
        loaded = self.loaded.get(key)
        if loaded is not None and loaded.memory_limit != memory_limit:
            self.drop(key)
            loaded = None
        if loaded is None:
            script = request.get("script")
            if script is None:
                return {"need_script": True}
            if script_hash(str(script)) != key:
                return {"error": "the script does not match its hash", "kind": "worker"}
            loaded = self._load(str(script), time_limit, memory_limit)
            self.loaded[key] = loaded
            while len(self.loaded) > self.max_scripts:
                self.drop(next(iter(self.loaded)))
        self.loaded.move_to_end(key)
        text = self._run(key, loaded, op, json.dumps(request["input"]), time_limit)
        if not text.startswith('{"error":'):
            # The harness's own JSON.stringify made it: pass it on as it is, the runner checks.
            return RawResult(text)
        result = json.loads(text)
        if "error" in result:
            if result.get("fatal"):
                self.drop(key)
            message = str(result["error"])
            if "out of memory" not in message:
                kind = "output" if result.get("kind") == "output" else "script"
                return {"error": message, "kind": kind}
            mib = loaded.memory_limit / (1024 * 1024)
            maybe = " (or it threw null)" if "threw null" in message else ""
            return {"error": f"ran out of its {mib:g} MiB memory limit{maybe}", "kind": "memory"}
        return {"error": "the harness returned an unknown answer", "kind": "output"}

    def _run(self, key: str, loaded: Loaded, op: str, input_json: str, time_limit: float) -> str:
        loaded.context.set_time_limit(time_limit)
        try:
            text = loaded.run(op, input_json)
        except Exception as exc:
            failure = _describe(
                self.quickjs, exc, time_limit=time_limit, memory_limit=loaded.memory_limit
            )
            if failure.fatal:
                self.drop(key)
            raise failure from None
        loaded.calls_since_gc += 1
        if loaded.calls_since_gc >= GC_ALWAYS_AFTER:
            self.collect(loaded)
        if not isinstance(text, str):
            self.drop(key)
            raise ScriptFailureError("the harness returned no text", "output", fatal=True)
        return text

    def _new_context(self, time_limit: float, memory_limit: int) -> Any:
        context = self.quickjs.Context()
        context.set_memory_limit(memory_limit)
        context.set_max_stack_size(MAX_STACK)
        context.set_time_limit(time_limit)
        return context

    def _load(self, script: str, time_limit: float, memory_limit: int) -> Loaded:
        # Loading parses the script and runs its top level: allow more than one call's time.
        load_limit = max(4 * time_limit, 0.5)
        context = self._new_context(load_limit, memory_limit)
        try:
            context.eval(BUFFER_JS)
            context.eval(HARNESS_JS)
            run = context.get("__codecRun")
        except Exception as exc:
            failure = _describe(self.quickjs, exc, time_limit=load_limit, memory_limit=memory_limit)
            raise ScriptFailureError(
                f"the sandbox prelude does not load: {failure.message}", failure.kind, fatal=True
            ) from None
        try:
            context.eval(script)
        except Exception as exc:
            failure = _describe(self.quickjs, exc, time_limit=load_limit, memory_limit=memory_limit)
            raise ScriptFailureError(
                f"the script does not load: {failure.message}", failure.kind, fatal=True
            ) from None
        return Loaded(context, run, memory_limit)

    def _evaluate(self, source: str, time_limit: float, memory_limit: int) -> Any:
        context = self._new_context(time_limit, memory_limit)
        try:
            text = context.eval(f"JSON.stringify(({source}\n))")  # line numbers stay the file's
        except Exception as exc:
            failure = _describe(self.quickjs, exc, time_limit=time_limit, memory_limit=memory_limit)
            raise ScriptFailureError(
                f"not a JavaScript value: {failure.message}", failure.kind, fatal=True
            ) from None
        if not isinstance(text, str):
            raise ScriptFailureError(
                "not a JavaScript value that JSON can carry", "script", fatal=True
            )
        return json.loads(text)

    def drop(self, key: str) -> None:
        if self.loaded.pop(key, None) is not None:
            self.dropped = True

    def collect(self, loaded: Loaded) -> None:
        loaded.context.gc()
        loaded.calls_since_gc = 0

    def collect_when_idle(self, input_waiting: Any) -> None:
        for loaded in self.loaded.values():
            if loaded.calls_since_gc >= GC_WHEN_IDLE_AFTER:
                if input_waiting():
                    return
                self.collect(loaded)


def _input_waiting(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def main() -> int:
    channel = os.dup(1)
    os.dup2(2, 1)  # a stray print goes to stderr, never into the channel
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        quickjs = importlib.import_module("_quickjs")
    except ImportError as exc:
        write_all(
            channel, pack({"ready": False, "error": f"the JavaScript engine is missing: {exc}"})
        )
        return 1
    max_scripts = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    engine = Engine(quickjs, max_scripts=max_scripts)
    # The engine's gc() also runs Python's full collection; with everything imported so far
    # frozen out of it, a collection costs the JavaScript heap's size, not the interpreter's.
    gc.freeze()
    write_all(channel, pack({"ready": True}))
    while True:
        try:
            request = read_frame(0)
        except WireError as exc:
            print(f"codec worker: {exc}", file=sys.stderr)
            return 2
        if request is None:
            return 0
        response = engine.handle(request)
        try:
            frame = (
                pack_result_json(response.json_text)
                if isinstance(response, RawResult)
                else pack(response)
            )
        except WireError as exc:
            frame = pack({"error": f"the result cannot be sent: {exc}", "kind": "output"})
        write_all(channel, frame)
        engine.collect_when_idle(lambda: _input_waiting(0))


if __name__ == "__main__":
    sys.exit(main())
