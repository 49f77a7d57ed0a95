"""MCU firmware images: size, vendor C arrays, known checksums, clear refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hal.sx1302.errors import FirmwareError
from hal.sx1302.firmware import (
    KNOWN_IMAGES,
    FirmwareKind,
    KnownImage,
    check_image,
    load_image,
    parse_image,
    synthetic_image,
)


def _as_c_array(data: bytes) -> str:
    rows = [", ".join(f"0x{b:02X}" for b in data[i : i + 16]) for i in range(0, len(data), 16)]
    return (
        "/* generated */\nstatic uint8_t agc_firmware_sx1250[8192] = {\n"
        + ",\n".join(rows)
        + "\n};\n"
    )


def test_raw_and_c_array_images_give_the_same_bytes(tmp_path: Path) -> None:
    image = synthetic_image(FirmwareKind.AGC, seed=3)
    raw, var = tmp_path / "agc.bin", tmp_path / "agc_fw_sx1250.var"
    raw.write_bytes(image)
    var.write_text(_as_c_array(image))
    for path in (raw, var):
        loaded = load_image(path, FirmwareKind.AGC, allow_unknown=True)
        assert loaded.data == image
        assert loaded.sha256 == hashlib.sha256(image).hexdigest()
        assert loaded.known is None and loaded.expected_version == 10


def test_unknown_images_are_refused_unless_allowed(tmp_path: Path) -> None:
    path = tmp_path / "arb.bin"
    path.write_bytes(synthetic_image(FirmwareKind.ARB))
    with pytest.raises(FirmwareError) as error:
        load_image(path, FirmwareKind.ARB, allow_unknown=False)
    message = str(error.value)
    assert "unknown ARB image" in message
    assert "sx1302_hal" in message and "allow_unknown_firmware" in message
    assert load_image(path, FirmwareKind.ARB, allow_unknown=True).expected_version == 2


def test_a_known_image_is_recognised_and_its_kind_checked() -> None:
    image = synthetic_image(FirmwareKind.AGC, seed=9)
    known = (KnownImage(FirmwareKind.AGC, 10, hashlib.sha256(image).hexdigest(), "test"),)
    loaded = check_image(
        image, FirmwareKind.AGC, source="x", allow_unknown=False, known_images=known
    )
    assert loaded.known == known[0]
    with pytest.raises(FirmwareError, match="is the vendor's AGC image, not the ARB one"):
        check_image(image, FirmwareKind.ARB, source="x", allow_unknown=True, known_images=known)


def test_the_vendor_checksums_are_listed() -> None:
    assert {(k.kind, k.version) for k in KNOWN_IMAGES} == {
        (FirmwareKind.AGC, 10),
        (FirmwareKind.ARB, 2),
    }
    assert all(len(k.sha256) == 64 for k in KNOWN_IMAGES)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\x00" * 100, "neither an 8192-byte image nor a C array"),
        (b"static uint8_t x[3] = {0x01, 0x02, 0x03};", "holds 3 bytes"),
        (b"static uint8_t x[] = {0x100};", "above 0xFF"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "fw"
    path.write_bytes(content)
    with pytest.raises(FirmwareError, match=fragment):
        load_image(path, FirmwareKind.AGC, allow_unknown=True)


def test_missing_file_and_missing_option(tmp_path: Path) -> None:
    with pytest.raises(FirmwareError, match=r"does not exist.*sx1302_hal"):
        load_image(tmp_path / "nope.bin", FirmwareKind.AGC, allow_unknown=True)
    with pytest.raises(FirmwareError, match="no AGC firmware configured"):
        load_image(None, FirmwareKind.AGC, allow_unknown=True)
    assert parse_image(bytes(8192), "x") == bytes(8192)
