"""The AGC and ARB MCU firmware images: Semtech's binaries, provided by the operator.

They are not shipped with the appliance. An image is 8192 bytes; it can be given as the raw
binary or as the C array file the vendor HAL carries (``agc_fw_sx1250.var``, ``arb_fw.var``).
Its SHA-256 must be one of the vendor images listed below, unless the operator sets
``allow_unknown_firmware`` (the emulator and tests use synthetic images that way).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Final

from hal.sx1302.errors import FirmwareError
from hal.sx1302.registers import MCU_FIRMWARE_SIZE


class FirmwareKind(Enum):
    AGC = "agc"
    ARB = "arb"


# Versions the images report once started (AGC mailbox 0 / ARB debug status 0).
AGC_SX1250_VERSION: Final = 10
ARB_VERSION: Final = 2


@dataclass(frozen=True, slots=True)
class KnownImage:
    kind: FirmwareKind
    version: int
    sha256: str
    origin: str


# SHA-256 of the byte arrays in Semtech's sx1302_hal (github.com/Lora-net/sx1302_hal), tags
# V2.0.0, V2.0.1 and V2.1.0 carry the same images: libloragw/src/agc_fw_sx1250.var
# (AGC for SX1250 radios, version 10) and libloragw/src/arb_fw.var (ARB, version 2).
KNOWN_IMAGES: Final = (
    KnownImage(
        FirmwareKind.AGC,
        AGC_SX1250_VERSION,
        "8f612e878b946b8c7cc59a5fc27ad33bb18ab92ad6e291d873f5d6bb7daae0d4",
        "sx1302_hal 2.0.0-2.1.0 libloragw/src/agc_fw_sx1250.var",
    ),
    KnownImage(
        FirmwareKind.ARB,
        ARB_VERSION,
        "a6f542395e29cd258917f5948d1067ab18e3cf08ce5ee250e2caa08539f80fd0",
        "sx1302_hal 2.0.0-2.1.0 libloragw/src/arb_fw.var",
    ),
)

WHERE_TO_GET: Final = (
    "the images are Semtech's and are not shipped with the appliance: take "
    "libloragw/src/agc_fw_sx1250.var and libloragw/src/arb_fw.var from Semtech's sx1302_hal "
    "2.1.0 (github.com/Lora-net/sx1302_hal) and name them in the backend options "
    "agc_firmware / arb_firmware (see docs/sx1302.md)"
)

_C_ARRAY = re.compile(r"\{(?P<body>[^}]*)\}", re.S)
_BYTE = re.compile(r"0[xX][0-9a-fA-F]+|\b\d+\b")
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


@dataclass(frozen=True, slots=True)
class FirmwareImage:
    kind: FirmwareKind
    data: bytes
    sha256: str
    known: KnownImage | None

    @property
    def expected_version(self) -> int:
        if self.known is not None:
            return self.known.version
        return AGC_SX1250_VERSION if self.kind is FirmwareKind.AGC else ARB_VERSION


def parse_image(raw: bytes, source: str) -> bytes:
    """The 8192 image bytes of a raw binary or of a vendor ``.var`` C array."""
    if len(raw) == MCU_FIRMWARE_SIZE:
        return raw
    text = raw.decode("ascii", "replace")
    match = _C_ARRAY.search(_COMMENT.sub("", text))
    if match is None:
        raise FirmwareError(
            f"{source}: {len(raw)} bytes is neither an {MCU_FIRMWARE_SIZE}-byte image nor a "
            "C array file"
        )
    values = [int(token, 0) for token in _BYTE.findall(match.group("body"))]
    if any(value > 0xFF for value in values):
        raise FirmwareError(f"{source}: the C array holds values above 0xFF")
    if len(values) != MCU_FIRMWARE_SIZE:
        raise FirmwareError(
            f"{source}: the C array holds {len(values)} bytes, an image is {MCU_FIRMWARE_SIZE}"
        )
    return bytes(values)


def check_image(
    data: bytes,
    kind: FirmwareKind,
    *,
    source: str,
    allow_unknown: bool,
    known_images: tuple[KnownImage, ...] = KNOWN_IMAGES,
) -> FirmwareImage:
    if len(data) != MCU_FIRMWARE_SIZE:
        raise FirmwareError(f"{source}: {len(data)} bytes, an image is {MCU_FIRMWARE_SIZE}")
    digest = hashlib.sha256(data).hexdigest()
    for known in known_images:
        if known.sha256 == digest:
            if known.kind is not kind:
                raise FirmwareError(
                    f"{source} is the vendor's {known.kind.value.upper()} image, not the "
                    f"{kind.value.upper()} one"
                )
            return FirmwareImage(kind, data, digest, known)
    if not allow_unknown:
        raise FirmwareError(
            f"{source}: unknown {kind.value.upper()} image (sha256 {digest}); {WHERE_TO_GET}, "
            "or set allow_unknown_firmware = true to load it anyway"
        )
    return FirmwareImage(kind, data, digest, None)


def load_image(
    path: str | Path | None, kind: FirmwareKind, *, allow_unknown: bool
) -> FirmwareImage:
    option = f"{kind.value}_firmware"
    if path is None or str(path) == "":
        raise FirmwareError(
            f"no {kind.value.upper()} firmware configured ({option}); {WHERE_TO_GET}"
        )
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise FirmwareError(f"{option} {source} does not exist; {WHERE_TO_GET}") from None
    except OSError as exc:
        raise FirmwareError(f"cannot read {option} {source}: {exc.strerror or exc}") from None
    return check_image(parse_image(raw, source), kind, source=source, allow_unknown=allow_unknown)


def synthetic_image(kind: FirmwareKind, seed: int = 0) -> bytes:
    """A deterministic stand-in image of the right size, for the emulator and tests."""
    digest = hashlib.sha256(f"synthetic {kind.value} firmware {seed}".encode()).digest()
    return (digest * (MCU_FIRMWARE_SIZE // len(digest) + 1))[:MCU_FIRMWARE_SIZE]
