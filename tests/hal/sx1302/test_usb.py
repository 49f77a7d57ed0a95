"""The USB variant: the real driver over pyserial, the emulated bridge on a pseudo-terminal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance.lorawan.identifiers import EUI64
from hal.model import CodeRate, LoRaModulation
from hal.sx1302 import mcu
from hal.sx1302.clock import ManualClock
from hal.sx1302.driver import Concentrator
from hal.sx1302.emulator import EmulatedSx1302
from hal.sx1302.emulator.fifo import FifoPacket
from hal.sx1302.emulator.selftest import synthetic_firmware
from hal.sx1302.emulator.trace import Trace, compare
from hal.sx1302.emulator.usb_bridge import UsbBridgeEmulator
from hal.sx1302.errors import TransportError
from hal.sx1302.global_conf import load_global_conf
from hal.sx1302.tx import TxMode, TxRequest, select_gain
from hal.sx1302.usb import UsbTransport, open_usb
from tests.hal.sx1302.helpers import DATA, EU868_GAINS, REFERENCE, eu868_config, started


@pytest.fixture
def bridge() -> Iterator[UsbBridgeEmulator]:
    chip = EmulatedSx1302(ManualClock())
    with UsbBridgeEmulator(chip, temperature_c=27.25) as emulator:
        yield emulator


def _driver(bridge: UsbBridgeEmulator) -> tuple[Concentrator, UsbTransport]:
    transport = open_usb(bridge.path)
    agc, arb = synthetic_firmware()
    driver = Concentrator(
        transport,
        eu868_config(),
        agc_firmware=agc,
        arb_firmware=arb,
        clock=bridge.chip.clock,
        mcu_temperature=transport,
    )
    return driver, transport


def test_open_pings_reads_status_and_resets_through_the_mcu(bridge: UsbBridgeEmulator) -> None:
    transport = open_usb(bridge.path)
    try:
        assert bridge.requests[:2] == [mcu.Command.PING, mcu.Command.GET_STATUS]
        assert bridge.requests[2:7] == [mcu.Command.WRITE_GPIO] * 5
        assert transport.ping().version == "R01.00.00"
        assert transport.temperature_c() == 27.25
    finally:
        transport.close()


def test_start_receive_and_send_over_usb_write_the_same_registers_as_spi(
    bridge: UsbBridgeEmulator,
) -> None:
    driver, _ = _driver(bridge)
    driver.start()
    try:
        chip = bridge.chip
        chip.inject(FifoPacket(b"\x40over-usb", if_chain=4).encode())
        (uplink,) = driver.poll(gateway_id=EUI64("0102030405060708")).uplinks
        assert uplink.phy_payload == b"\x40over-usb"
        assert driver.temperature_c() == 27.25
        before = len(bridge.requests)
        gain = select_gain(EU868_GAINS, 14)
        assert gain is not None
        driver.send(
            TxRequest(
                0,
                868_100_000,
                gain,
                LoRaModulation(125_000, 7, CodeRate.CR_4_5),
                b"\x60" * 12,
                TxMode.IMMEDIATE,
            )
        )
        # the whole transmission went out in one MULTIPLE_SPI request (bulk mode)
        assert bridge.requests[before:] == [mcu.Command.MULTIPLE_SPI]
        assert chip.transmissions[0].payload == b"\x60" * 12
    finally:
        driver.stop()
    spi = started()
    start = compare(_registers(spi.chip.trace), _registers(bridge.chip.trace))
    assert start.missing == [] and start.order_error is None
    agc, arb = synthetic_firmware()
    assert bytes(bridge.chip.agc_memory) == agc.data and bytes(bridge.chip.arb_memory) == arb.data
    # over USB the program memories go in 4096-byte chunks (two per image), not 1024
    assert [line for line in bridge.chip.trace if line.startswith("W 0000")] == [
        "W 0000 4096 <AGC firmware bytes>"
    ]


def _registers(trace: list[str]) -> Trace:
    """The trace without MCU program memory accesses, whose chunking depends on the bus."""
    return Trace.parse(line for line in trace if not line.rstrip().endswith("firmware bytes>"))


def test_the_reference_start_trace_over_usb(bridge: UsbBridgeEmulator) -> None:
    transport = open_usb(bridge.path)
    agc, arb = synthetic_firmware()
    config = load_global_conf(DATA / "global_conf_rx_eu868.json").config
    driver = Concentrator(
        transport, config, agc_firmware=agc, arb_firmware=arb, clock=bridge.chip.clock
    )
    driver.start()
    driver.stop()
    reference = (REFERENCE / "lgw_start_rx_eu868.trace").read_text().splitlines()
    comparison = compare(_registers(reference), _registers(bridge.chip.trace))
    assert comparison.missing == [] and comparison.order_error is None


def test_reads_cannot_be_queued_in_bulk_mode(bridge: UsbBridgeEmulator) -> None:
    transport = open_usb(bridge.path)
    try:
        transport.begin_bulk()
        with pytest.raises(TransportError, match="cannot be queued"):
            transport.read(0x5606, 1)
        transport.flush()
        assert transport.read(0x5606, 1) == b"\x10"
    finally:
        transport.close()


def test_a_silent_port_times_out_with_a_clear_error() -> None:
    class Silent:
        def write(self, data: bytes, /) -> int:
            return len(data)

        def read(self, size: int = 1, /) -> bytes:
            return b""

        def reset_input_buffer(self) -> None: ...

        def close(self) -> None: ...

    with pytest.raises(TransportError, match="no answer to PING"):
        UsbTransport(Silent(), name="/dev/ttyACM9").ping()


def test_an_error_ack_is_reported(bridge: UsbBridgeEmulator) -> None:
    transport = open_usb(bridge.path)
    try:
        with pytest.raises(TransportError, match="the MCU refused BOOTLOADER_MODE"):
            transport.request(mcu.Command.BOOTLOADER_MODE)
    finally:
        transport.close()
