"""Finding a concentrator on SPI and USB devices."""

from __future__ import annotations

from hal.sx1302.clock import ManualClock
from hal.sx1302.detect import bus_kind_of, probe
from hal.sx1302.emulator import EmulatedSpiDev, EmulatedSx1302
from hal.sx1302.emulator.usb_bridge import UsbBridgeEmulator
from hal.sx1302.errors import TransportError
from hal.sx1302.profiles import load_all
from hal.sx1302.spi import SpiTransport
from hal.sx1302.transport import Transport


def test_spi_probe_reads_identity_and_matches_profiles() -> None:
    clock = ManualClock()
    chip = EmulatedSx1302(clock, model_id=0x03)

    def opener(path: str) -> Transport:
        return SpiTransport(EmulatedSpiDev(chip))

    detection = probe("/dev/spidev0.0", opener=opener, clock=clock, profiles=load_all())
    assert detection.found and detection.identity is not None
    assert detection.identity.model == "SX1303"
    assert str(detection.identity.eui) == "0016c001ff10a235"
    assert "rak5146" in detection.profiles and "rak2287" in detection.profiles
    assert "multitech-mtcap3-003e00" not in detection.profiles  # it sits on spidev1.0
    assert not any(line.startswith(("W 52", "W 54")) for line in chip.trace)  # nothing sent


def test_usb_probe_through_the_bridge() -> None:
    chip = EmulatedSx1302(ManualClock())
    with UsbBridgeEmulator(chip) as bridge:
        detection = probe(bridge.path, clock=chip.clock, profiles=load_all())
    assert detection.bus_kind == "usb"
    assert detection.identity is not None and detection.identity.model == "SX1302"
    assert "semtech-sx1302css868gw1" in detection.profiles


def test_absent_chip_and_unopenable_device() -> None:
    clock = ManualClock()
    chip = EmulatedSx1302(clock)
    chip.memory[0x5606] = 0xFF
    detection = probe(
        "/dev/spidev0.0", opener=lambda _: SpiTransport(EmulatedSpiDev(chip)), clock=clock
    )
    assert not detection.found and "version register reads 0xFF" in (detection.error or "")

    def fails(path: str) -> Transport:
        raise TransportError(f"cannot open {path}: No such file or directory")

    missing = probe("/dev/spidev9.9", opener=fails)
    assert missing.error == "cannot open /dev/spidev9.9: No such file or directory"
    assert bus_kind_of("/dev/ttyACM0") == "usb"
