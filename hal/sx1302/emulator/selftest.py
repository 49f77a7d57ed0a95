"""Run the real driver against the emulated chip: start, receive one packet, send one, stop.

The self-test of ``appliance hardware emulate``: no hardware, no vendor firmware needed
(synthetic images unless real ones are given), and the chip's SPI frames come out in the
reference trace format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from appliance.lorawan.identifiers import EUI64
from hal.model import CodeRate, LoRaModulation, UplinkFrame
from hal.sx1302.clock import ManualClock
from hal.sx1302.config import ConcentratorConfig
from hal.sx1302.driver import Concentrator
from hal.sx1302.emulator.chip import EmulatedSx1302, TxRecord
from hal.sx1302.emulator.devices import EmulatedI2CBus, EmulatedSpiDev, EmulatedStts751
from hal.sx1302.emulator.fifo import FifoPacket
from hal.sx1302.emulator.usb_bridge import UsbBridgeEmulator
from hal.sx1302.errors import Sx1302Error
from hal.sx1302.firmware import FirmwareImage, FirmwareKind, check_image, synthetic_image
from hal.sx1302.identity import ChipIdentity
from hal.sx1302.spi import SpiTransport
from hal.sx1302.transport import Transport
from hal.sx1302.tx import TxMode, TxRequest, TxState, select_gain
from hal.sx1302.usb import UsbTransport, open_usb

# An unconfirmed data uplink (DevAddr 26011BDA, FCnt 1) as the emulated packet.
EMULATED_UPLINK: Final = bytes.fromhex("40da1b01268001000102030405060708090a0b")
# The transmission of the reference trace (sx1302_hal's test_loragw_hal_tx payload).
DEFAULT_TX_PAYLOAD: Final = bytes.fromhex("40abababab00000002090a0b")
TX_WAIT_LIMIT_S: Final = 10.0


@dataclass(frozen=True, slots=True)
class TxSettings:
    frequency_hz: int | None = None  # None: the first channel the TX radio may use
    power_dbm: int = 14
    spreading_factor: int = 7
    bandwidth_hz: int = 125_000
    payload: bytes = DEFAULT_TX_PAYLOAD
    invert_polarity: bool = False


@dataclass(slots=True)
class EmulationReport:
    identity: ChipIdentity
    uplinks: list[UplinkFrame] = field(default_factory=list)
    transmissions: list[TxRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)


def synthetic_firmware() -> tuple[FirmwareImage, FirmwareImage]:
    agc = synthetic_image(FirmwareKind.AGC)
    arb = synthetic_image(FirmwareKind.ARB)
    return (
        check_image(agc, FirmwareKind.AGC, source="synthetic AGC image", allow_unknown=True),
        check_image(arb, FirmwareKind.ARB, source="synthetic ARB image", allow_unknown=True),
    )


def _tx_frequency(config: ConcentratorConfig, chain: int, settings: TxSettings) -> int:
    radio = config.radios[chain]
    if settings.frequency_hz is not None:
        return settings.frequency_hz
    for if_chain in range(8):
        if config.multi_sf[if_chain].enable:
            frequency = config.channel_frequency(if_chain)
            if radio.tx_min_hz <= frequency <= radio.tx_max_hz:
                return frequency
    return radio.frequency_hz


def run_emulation(
    config: ConcentratorConfig,
    *,
    bus_kind: str = "spi",
    temperature_addresses: tuple[int, ...] = (0x39,),
    firmware: tuple[FirmwareImage, FirmwareImage] | None = None,
    tx: TxSettings | None = None,
    chip_eui: EUI64 | None = None,
    model_id: int = 0x00,
) -> EmulationReport:
    """Start, receive one packet, send one transmission, stop; the trace is in the report."""
    clock = ManualClock()
    eui = bytes(chip_eui) if chip_eui is not None else bytes.fromhex("0016c001ff10a235")
    chip = EmulatedSx1302(clock, eui=eui, model_id=model_id)
    agc, arb = firmware or synthetic_firmware()
    bridge: UsbBridgeEmulator | None = None
    transport: Transport
    i2c = None
    usb: UsbTransport | None = None
    if bus_kind == "usb":
        bridge = UsbBridgeEmulator(chip)
        bridge.start()
        transport = usb = open_usb(bridge.path)
    else:
        transport = SpiTransport(EmulatedSpiDev(chip))
        sensors = {temperature_addresses[0]: EmulatedStts751()} if temperature_addresses else {}
        i2c = EmulatedI2CBus(chip, sensors)
    driver = Concentrator(
        transport,
        config,
        agc_firmware=agc,
        arb_firmware=arb,
        clock=clock,
        i2c=i2c,
        temperature_addresses=temperature_addresses or (0x39,),
        mcu_temperature=usb,
    )
    try:
        identity = driver.start()
        report = EmulationReport(identity)
        _receive(driver, chip, clock, report)
        _transmit(driver, config, clock, tx or TxSettings(), report)
        report.transmissions = list(chip.transmissions)
    finally:
        try:
            driver.stop()
        finally:
            if bridge is not None:
                bridge.close()
    report.trace = list(chip.trace)
    return report


def _receive(
    driver: Concentrator, chip: EmulatedSx1302, clock: ManualClock, report: EmulationReport
) -> None:
    channels = [n for n in range(8) if driver.config.multi_sf[n].enable]
    if not channels:
        report.skipped.append("receive: no multi-SF channel is enabled")
        return
    clock.sleep(0.05)
    chip.inject(
        FifoPacket(
            EMULATED_UPLINK, if_chain=channels[0], timestamp_32mhz=chip.counter_ticks()
        ).encode()
    )
    gateway = driver.identity.eui if driver.identity else EUI64(bytes(8))
    report.uplinks = driver.poll(gateway_id=gateway).uplinks


def _transmit(
    driver: Concentrator,
    config: ConcentratorConfig,
    clock: ManualClock,
    settings: TxSettings,
    report: EmulationReport,
) -> None:
    chains = [n for n, radio in enumerate(config.radios) if radio.tx_enable]
    if not chains:
        report.skipped.append("transmit: no radio has TX enabled")
        return
    chain = chains[0]
    gain = select_gain(config.radios[chain].tx_gains, settings.power_dbm)
    if gain is None:
        raise Sx1302Error(f"no TX gain row at or below {settings.power_dbm} dBm")
    driver.send(
        TxRequest(
            rf_chain=chain,
            frequency_hz=_tx_frequency(config, chain, settings),
            gain=gain,
            modulation=LoRaModulation(
                settings.bandwidth_hz,
                settings.spreading_factor,
                CodeRate.CR_4_5,
                polarization_inversion=settings.invert_polarity,
            ),
            payload=settings.payload,
            mode=TxMode.IMMEDIATE,
            lorawan_public=config.lorawan_public,
        )
    )
    deadline = clock.monotonic() + TX_WAIT_LIMIT_S
    while driver.tx_state(chain) is not TxState.FREE:
        if clock.monotonic() > deadline:
            raise Sx1302Error("the emulated transmission did not end")
        clock.sleep(0.001)


def write_trace(lines: list[str], path: str | Path) -> None:
    Path(path).write_text("\n".join(lines) + "\n")
