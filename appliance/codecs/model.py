"""What the application server hands to the codec layer and gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from appliance.codecs.errors import CodecError

CodecRuntime = Literal["none", "cayenne_lpp", "js"]
CODEC_RUNTIMES: tuple[str, ...] = get_args(CodecRuntime)


@dataclass(frozen=True, slots=True)
class CodecSpec:
    """The codec a device profile names: ChirpStack's ``payload_codec_runtime`` and script."""

    runtime: CodecRuntime
    script: str = ""

    def __post_init__(self) -> None:
        if self.runtime not in CODEC_RUNTIMES:
            raise CodecError(
                f"unknown codec runtime {self.runtime!r} (known: {', '.join(CODEC_RUNTIMES)})",
                kind="payload",
            )
        if self.runtime == "js" and not self.script.strip():
            raise CodecError("a JavaScript codec needs a script", kind="script")


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """A decoded payload: ``object`` holds only dict/list/str/int/float/bool/None."""

    object: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EncodeResult:
    """An encoded downlink; ``f_port`` is set when the codec chose the port itself."""

    data: bytes
    f_port: int | None = None
    warnings: list[str] = field(default_factory=list)
