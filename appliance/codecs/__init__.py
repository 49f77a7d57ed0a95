"""Payload codecs: Cayenne LPP, sandboxed JavaScript codecs and device-repository import.

The application server uses one ``CodecRunner`` for the life of the process::

    runner = CodecRunner(workers=2, time_limit=0.1, memory_limit=16 * 1024 * 1024)
    await runner.start()                      # optional: start the sandbox processes now
    spec = CodecSpec("js", script)            # or CodecSpec("cayenne_lpp"), CodecSpec("none")
    try:
        decoded = await runner.decode_uplink(
            spec, f_port=2, data=payload, recv_time=now, variables={"k": "v"}
        )                                     # DecodeResult(object, warnings), None for "none"
        encoded = await runner.encode_downlink(spec, f_port=None, obj={"led": "on"})
                                              # EncodeResult(data, f_port, warnings)
    except CodecError as error:               # one line in str(error); error.kind says what
        ...                                   # -> a "log" event; the uplink goes on undecoded
    await runner.close()                      # or: async with CodecRunner() as runner

JavaScript runs in worker processes (``JSSandbox``) under a per-call CPU time limit (100 ms) and
heap limit (16 MiB); scripts are loaded once per worker and cached by SHA-256. Scripts may
define ChirpStack v4 / The Things Stack ``decodeUplink(input)``, ``encodeDownlink(input)``,
``decodeDownlink(input)``, ChirpStack v3 ``Decode``/``Encode`` or TTN v2 ``Decoder``/``Encoder``,
and use a Node-style ``Buffer``.

Device repositories: ``load_ttn_repository(path)`` and ``load_chirpstack_repository(path)``
return a ``RepositoryImport`` (devices per firmware and region, with profile, codec and the
self-test of the repository's examples, plus what was skipped and why).

See docs/codecs.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appliance.codecs.errors import CodecError, CodecErrorKind, RepositoryError
    from appliance.codecs.model import (
        CODEC_RUNTIMES,
        CodecRuntime,
        CodecSpec,
        DecodeResult,
        EncodeResult,
    )
    from appliance.codecs.repository import (
        ExampleResult,
        ImportedCodec,
        ImportedDevice,
        ImportedProfile,
        RepositoryImport,
        Skipped,
        load_chirpstack_repository,
        load_ttn_repository,
    )
    from appliance.codecs.runner import CodecRunner
    from appliance.codecs.sandbox import JSSandbox

# Loaded on first use: the sandbox processes import this package too, and need none of it.
_HOMES = {
    "CODEC_RUNTIMES": "model",
    "CodecError": "errors",
    "CodecErrorKind": "errors",
    "CodecRunner": "runner",
    "CodecRuntime": "model",
    "CodecSpec": "model",
    "DecodeResult": "model",
    "EncodeResult": "model",
    "ExampleResult": "repository",
    "ImportedCodec": "repository",
    "ImportedDevice": "repository",
    "ImportedProfile": "repository",
    "JSSandbox": "sandbox",
    "RepositoryError": "errors",
    "RepositoryImport": "repository",
    "Skipped": "repository",
    "load_chirpstack_repository": "repository",
    "load_ttn_repository": "repository",
}
__all__ = [
    "CODEC_RUNTIMES",
    "CodecError",
    "CodecErrorKind",
    "CodecRunner",
    "CodecRuntime",
    "CodecSpec",
    "DecodeResult",
    "EncodeResult",
    "ExampleResult",
    "ImportedCodec",
    "ImportedDevice",
    "ImportedProfile",
    "JSSandbox",
    "RepositoryError",
    "RepositoryImport",
    "Skipped",
    "load_chirpstack_repository",
    "load_ttn_repository",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'appliance.codecs' has no attribute {name!r}")
    return getattr(importlib.import_module(f"appliance.codecs.{home}"), name)
