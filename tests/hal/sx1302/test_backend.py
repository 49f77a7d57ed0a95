"""The sx1302 backend on the emulated chip: events, downlinks through the JIT queue, stats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from appliance.lorawan.identifiers import EUI64
from hal.backend import BackendConfigError
from hal.model import (
    CodeRate,
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxInfo,
    GatewayConfiguration,
    GatewayConnected,
    GatewayDisconnected,
    GatewayStats,
    Immediately,
    LoRaChannel,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
)
from hal.registry import create_backend
from hal.sx1302.backend import Sx1302Backend, create_sx1302_backend
from hal.sx1302.clock import ManualClock
from hal.sx1302.emulator import EmulatedI2CBus, EmulatedSpiDev, EmulatedStts751, EmulatedSx1302
from hal.sx1302.emulator.fifo import FifoPacket
from hal.sx1302.emulator.selftest import synthetic_firmware
from hal.sx1302.firmware import FirmwareKind, synthetic_image
from hal.sx1302.hardware import Hardware
from hal.sx1302.options import Sx1302Options, parse_options
from hal.sx1302.spi import SpiTransport

CHIP_EUI = EUI64("0016c001ff10a235")


class Rig:
    def __init__(self, options: Sx1302Options) -> None:
        self.clock = ManualClock()
        self.chip = EmulatedSx1302(self.clock)
        agc, arb = synthetic_firmware()
        self.backend = Sx1302Backend(options, agc=agc, arb=arb, opener=self.open, clock=self.clock)

    def open(self, options: Sx1302Options, clock: object) -> Hardware:
        self.chip.reset()  # what the board's reset GPIO does before every start
        return Hardware(
            SpiTransport(EmulatedSpiDev(self.chip)),
            i2c=EmulatedI2CBus(self.chip, {0x3B: EmulatedStts751()}),
        )


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    options = parse_options(
        {
            "profile": "semtech-sx1302c868gw1",
            "region": "EU868",
            "poll_interval_ms": 2,
            "stats_interval_s": 1,
        }
    )
    rig = Rig(options)
    await rig.backend.start()
    yield rig
    await rig.backend.stop()


async def _next(events: AsyncIterator[object], kind: type) -> object:
    async with asyncio.timeout(5):
        async for event in events:
            if isinstance(event, kind):
                return event
    raise AssertionError(f"no {kind.__name__}")


def _downlink(
    timing: object, context: bytes = b"", *, power: int = 14, frequency: int = 868_100_000
) -> DownlinkFrame:
    info = DownlinkTxInfo(
        frequency=frequency,
        power=power,
        modulation=LoRaModulation(125_000, 7, CodeRate.CR_4_5, polarization_inversion=True),
        timing=timing,  # type: ignore[arg-type]
        context=context,
    )
    return DownlinkFrame(7, CHIP_EUI, (DownlinkItem(b"\x60" + bytes(16), info),))


async def test_uplinks_and_connection_events(rig: Rig) -> None:
    events = rig.backend.events()
    connected = await _next(events, GatewayConnected)
    assert connected == GatewayConnected(CHIP_EUI, "sx1302", "/dev/spidev0.0")
    rig.chip.inject(
        FifoPacket(b"\x40uplink", if_chain=2, timestamp_32mhz=rig.chip.counter_ticks()).encode()
    )
    uplink = await _next(events, UplinkFrame)
    assert isinstance(uplink, UplinkFrame)
    assert uplink.phy_payload == b"\x40uplink"
    assert uplink.rx_info.gateway_id == CHIP_EUI
    assert uplink.rx_info.channel == 2


async def test_class_a_downlink_is_sent_at_uplink_time_plus_delay(rig: Rig) -> None:
    now_us = await rig.backend._call(rig.backend.driver.read_counter)  # type: ignore[union-attr]
    context = (now_us + 100_000).to_bytes(4, "big")  # an uplink that ended 100 ms from now
    ack = await rig.backend.send_downlink(_downlink(Delay(1_000_000_000), context))
    assert ack.items == (TxAckStatus.OK,)
    rig.clock.sleep(1.07)  # the poll loop hands it to the chip 40 ms before
    async with asyncio.timeout(5):
        while not rig.chip.transmissions:
            await asyncio.sleep(0.005)
    (record,) = rig.chip.transmissions
    assert record.trigger == "delayed"
    assert abs(record.start_counter_us - (now_us + 1_100_000)) <= 1
    assert record.modulation.polarization_inversion  # type: ignore[union-attr]


async def test_refusals_carry_the_right_status(rig: Rig) -> None:
    now_us = await rig.backend._call(rig.backend.driver.read_counter)  # type: ignore[union-attr]
    too_late = _downlink(Delay(10_000_000), now_us.to_bytes(4, "big"))
    assert (await rig.backend.send_downlink(too_late)).items == (TxAckStatus.TOO_LATE,)
    too_early = _downlink(Delay(500_000_000_000), now_us.to_bytes(4, "big"))
    assert (await rig.backend.send_downlink(too_early)).items == (TxAckStatus.TOO_EARLY,)
    assert (await rig.backend.send_downlink(_downlink(Immediately(), power=5))).items == (
        TxAckStatus.TX_POWER,
    )
    assert (
        await rig.backend.send_downlink(_downlink(Immediately(), frequency=915_000_000))
    ).items == (TxAckStatus.TX_FREQ,)
    context = (now_us + 2_000_000).to_bytes(4, "big")
    assert (await rig.backend.send_downlink(_downlink(Delay(0), context))).items == (
        TxAckStatus.OK,
    )
    assert (await rig.backend.send_downlink(_downlink(Delay(5_000_000), context))).items == (
        TxAckStatus.COLLISION_PACKET,
    )


async def test_stats_and_stop(rig: Rig) -> None:
    events = rig.backend.events()
    rig.clock.sleep(0.01)
    stats = await _next(events, GatewayStats)
    assert isinstance(stats, GatewayStats)
    assert stats.gateway_id == CHIP_EUI
    assert stats.metadata["chip"] == "SX1302"
    assert stats.metadata["temperature_c"] == "31.5"


async def test_stop_emits_disconnected() -> None:
    rig = Rig(
        parse_options({"profile": "rak2287", "region": "EU868", "gateway_id": "00000000000000aa"})
    )
    await rig.backend.start()
    events = rig.backend.events()
    await rig.backend.stop()
    seen = [event async for event in events]
    assert isinstance(seen[0], GatewayConnected) and seen[0].gateway_id == EUI64("00000000000000aa")
    assert isinstance(seen[-1], GatewayDisconnected)


def test_options_are_checked_with_clear_messages(tmp_path: Path) -> None:
    cases = [
        ({}, "give either 'profile'"),
        ({"profile": "rak2287"}, "needs 'region'"),
        ({"profile": "nope", "region": "EU868"}, "unknown board profile 'nope'"),
        ({"profile": "rak2287", "region": "EU868", "bogus": 1}, "unknown option(s) bogus"),
        ({"profile": "dragino-pg1302", "region": "AS923"}, "no settings for AS923-1"),
        ({"profile": "rak2287", "region": "US915"}, "needs a sub-band"),
        ({"profile": "rak2287", "region": "EU868", "poll_interval_ms": 0}, "poll_interval_ms"),
        ({"global_conf": str(tmp_path / "missing.json")}, "does not exist"),
    ]
    for options, fragment in cases:
        with pytest.raises(BackendConfigError) as error:
            parse_options(options)
        assert fragment in str(error.value), (options, str(error.value))


def test_firmware_is_checked_when_the_backend_is_built(tmp_path: Path) -> None:
    options = {"profile": "rak2287", "region": "EU868"}
    with pytest.raises(BackendConfigError, match="no AGC firmware configured"):
        create_backend("sx1302", options)
    agc, arb = tmp_path / "agc.bin", tmp_path / "arb.bin"
    agc.write_bytes(synthetic_image(FirmwareKind.AGC))
    arb.write_bytes(synthetic_image(FirmwareKind.ARB))
    paths = {"agc_firmware": str(agc), "arb_firmware": str(arb)}
    with pytest.raises(BackendConfigError, match="unknown AGC image"):
        create_sx1302_backend(options | paths)
    backend = create_sx1302_backend(options | paths | {"allow_unknown_firmware": True})
    assert backend.options.device == "/dev/spidev0.0"
    assert backend.config.radios[0].tx_enable


async def test_a_pushed_channel_plan_restarts_the_concentrator_with_it(rig: Rig) -> None:
    sfs = (7, 8, 9, 10, 11, 12)
    plan = GatewayConfiguration(
        CHIP_EUI, "v2", tuple(LoRaChannel(f, 125_000, sfs) for f in (868_100_000, 868_300_000))
    )
    await rig.backend.configure(plan)
    config = rig.backend.config
    assert sorted(config.channel_frequency(n) for n in range(8) if config.multi_sf[n].enable) == [
        868_100_000,
        868_300_000,
    ]
    assert abs(rig.chip.radios[0].frequency_hz - config.radios[0].frequency_hz) < 2
    events = rig.backend.events()
    rig.chip.inject(FifoPacket(b"\x40after", if_chain=1).encode())
    uplink = await _next(events, UplinkFrame)
    assert isinstance(uplink, UplinkFrame) and uplink.tx_info.frequency == 868_300_000


async def test_status_describes_the_concentrator_for_the_dashboard(rig: Rig) -> None:
    status = rig.backend.status()
    assert status["state"] == "running"
    assert status["chip"] == "SX1302"
    assert status["eui"] == str(CHIP_EUI)
    assert status["temperature_c"] == 31.5
    assert status["region"] == "EU868"
    assert status["board"]
    channels = status["channels_hz"]
    assert isinstance(channels, list) and len(channels) == 8
    assert all(863_000_000 <= f <= 870_000_000 for f in channels)
