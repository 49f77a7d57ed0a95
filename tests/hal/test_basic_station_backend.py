"""The Basics Station backend over real WebSockets on 127.0.0.1, with a station emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from appliance.lorawan.identifiers import EUI64
from hal.backend import Backend, BackendConfigError, BackendError
from hal.basic_station import BasicStationBackend, UplinkContext, parse_options
from hal.basic_station.emulator import StationEmulator, discover, dntxed_for
from hal.basic_station.timing import NS_PER_S, make_xtime
from hal.model import (
    BackendEvent,
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxInfo,
    GatewayConfiguration,
    GatewayConnected,
    GatewayDisconnected,
    GPSEpoch,
    Immediately,
    LoRaChannel,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
)

GATEWAY = EUI64("0001000200030004")
OTHER = EUI64("0102030405060708")
NOW = 1_700_000_000 * NS_PER_S
GPS_NOW = 1_384_035_218 * NS_PER_S
UPDF = bytes.fromhex("40abcdefff01f3f4ff202122a0a1a2a3")
XTIME = make_xtime(0, 3, 42_000_000)


@dataclass
class Harness:
    backend: BasicStationBackend
    events: AsyncIterator[BackendEvent]

    @property
    def base(self) -> str:
        return f"ws://127.0.0.1:{self.backend.port}"

    def uri(self, gateway: EUI64 | str) -> str:
        return f"{self.base}/gateway/{gateway}"

    async def event(self) -> BackendEvent:
        async with asyncio.timeout(5):
            return await anext(self.events)

    async def station(self, gateway: EUI64 = GATEWAY, **kwargs: Any) -> StationEmulator:
        station = await StationEmulator.connect(self.uri(gateway), gateway, **kwargs)
        assert await self.event() == GatewayConnected(gateway, "basic-station", _remote(station))
        return station


def _remote(station: StationEmulator) -> str:
    host, port = station.connection.local_address[:2]
    return f"{host}:{port}"


@asynccontextmanager
async def running(**options: Any) -> AsyncIterator[Harness]:
    backend = BasicStationBackend(
        parse_options({"bind": "127.0.0.1:0", **options}),
        clock=lambda: NOW,
        gps_clock=lambda: GPS_NOW,
    )
    await backend.start()
    events = backend.events()
    try:
        yield Harness(backend, events)
    finally:
        await backend.stop()
        async for _ in events:  # drain to the end-of-stream the stop put there
            pass


async def receive(station: StationEmulator) -> dict[str, Any]:
    async with asyncio.timeout(5):
        return await station.receive()


def _frame(context: bytes, downlink_id: int = 11) -> DownlinkFrame:
    def item(frequency: int, sf: int, delay_s: int) -> DownlinkItem:
        modulation = LoRaModulation(125_000, sf)
        return DownlinkItem(
            b"\x20" + bytes(16),
            DownlinkTxInfo(frequency, 14, modulation, Delay(delay_s * NS_PER_S), context=context),
        )

    return DownlinkFrame(downlink_id, GATEWAY, (item(868_100_000, 7, 1), item(869_525_000, 12, 2)))


async def test_it_is_a_backend() -> None:
    async with running() as harness:
        assert isinstance(harness.backend, Backend)
        with pytest.raises(BackendError, match="already started"):
            await harness.backend.start()


async def test_discovery_then_data_connection() -> None:
    async with running() as harness:
        answer = await discover(f"{harness.base}/router-info", "1:2:3:4")
        assert answer == {
            "router": "1:2:3:4",
            "muxs": "1:2:3:4",
            "uri": f"ws://127.0.0.1:{harness.backend.port}/gateway/0001000200030004",
        }
        station = await StationEmulator.connect(answer["uri"], GATEWAY)
        async with station:
            assert isinstance(await harness.event(), GatewayConnected)
            assert harness.backend.connected_gateways == {GATEWAY}
        event = await harness.event()
        assert isinstance(event, GatewayDisconnected) and event.gateway_id == GATEWAY
        assert harness.backend.connected_gateways == frozenset()


async def test_version_uplink_downlink_and_timesync() -> None:
    async with running() as harness, await harness.station() as station:
        config = await station.hello(features="rmtsh gps")
        assert config["msgtype"] == "router_config" and config["region"] == "EU868"
        info = harness.backend.station_info(GATEWAY)
        assert info is not None and info.features == ("rmtsh", "gps")

        await station.uplink(UPDF, data_rate=5, frequency_hz=868_100_000, xtime=XTIME, rssi=-80)
        uplink = await harness.event()
        assert isinstance(uplink, UplinkFrame)
        assert uplink.phy_payload == UPDF
        assert uplink.rx_info.gateway_id == GATEWAY and uplink.rx_info.rssi == -80
        assert uplink.rx_info.ns_time_ns == NOW

        sending = asyncio.create_task(harness.backend.send_downlink(_frame(uplink.rx_info.context)))
        dnmsg = await receive(station)
        assert dnmsg["msgtype"] == "dnmsg" and dnmsg["diid"] == 11
        assert (dnmsg["xtime"], dnmsg["RxDelay"], dnmsg["RX1Freq"]) == (XTIME, 1, 868_100_000)
        assert UplinkContext.from_bytes(uplink.rx_info.context) == UplinkContext(0, XTIME)
        await station.send(dntxed_for(dnmsg))
        async with asyncio.timeout(5):
            ack = await sending
        assert ack.items == (TxAckStatus.OK, TxAckStatus.IGNORED)

        answer = await station.timesync(987_654_321)
        assert answer == {
            "msgtype": "timesync",
            "txtime": 987_654_321,
            "gpstime": GPS_NOW // 1000,
            "MuxTime": NOW / NS_PER_S,
        }


async def test_downlink_acks_without_dntxed() -> None:
    async with running(tx_ack_timeout_s=0.05) as harness:
        frame = DownlinkFrame(
            5,
            GATEWAY,
            (
                DownlinkItem(
                    b"\x60" + bytes(11),
                    DownlinkTxInfo(869_525_000, 27, LoRaModulation(125_000, 12), Immediately()),
                ),
            ),
        )
        not_connected = await harness.backend.send_downlink(frame)
        assert not_connected.items == (TxAckStatus.INTERNAL_ERROR,)
        async with await harness.station() as station:
            assert (await harness.backend.send_downlink(frame)).items == (
                TxAckStatus.INTERNAL_ERROR,  # Station would drop it before its router_config
            )
            await station.hello()
            ack = await harness.backend.send_downlink(frame)  # the station never confirms
            assert ack.items == (TxAckStatus.TOO_LATE,)
            assert (await receive(station))["dC"] == 2

            sending = asyncio.create_task(harness.backend.send_downlink(_frame(b"", 6)))
            assert (await sending).items == (TxAckStatus.INTERNAL_ERROR,) * 2  # no context
        assert isinstance(await harness.event(), GatewayDisconnected)

        async with await harness.station() as station:
            await station.hello()
            context = UplinkContext(0, XTIME).to_bytes()
            sending = asyncio.create_task(harness.backend.send_downlink(_frame(context, 7)))
            await receive(station)
        assert (await sending).items == (TxAckStatus.INTERNAL_ERROR,) * 2  # connection lost
        assert harness.backend.drop_counts["downlink_not_connected"] == 1


async def test_token_authentication() -> None:
    tokens = {str(GATEWAY): "Bearer right"}
    async with running(tokens=tokens) as harness:
        for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 401)):
            with pytest.raises(InvalidStatus) as refused:
                await StationEmulator.connect(harness.uri(GATEWAY), GATEWAY, headers=headers)
            assert refused.value.response.status_code == status
        with pytest.raises(InvalidStatus) as refused:  # no token configured for it at all
            await StationEmulator.connect(harness.uri(OTHER), OTHER, headers={"Authorization": "x"})
        assert refused.value.response.status_code == 403

        answer = await discover(
            f"{harness.base}/router-info", str(GATEWAY), headers={"Authorization": "Bearer wrong"}
        )
        assert "Authorization" in answer["error"] and "uri" not in answer
        answer = await discover(
            f"{harness.base}/router-info", str(GATEWAY), headers={"Authorization": "Bearer right"}
        )
        assert answer["uri"].endswith("/gateway/0001000200030004")

        async with await harness.station(headers={"Authorization": "Bearer right"}) as station:
            assert (await station.hello())["msgtype"] == "router_config"
        assert harness.backend.drop_counts["refused_connection"] == 3


async def test_allowed_gateways_and_paths() -> None:
    async with running(allowed_gateways=[str(GATEWAY)]) as harness:
        answer = await discover(f"{harness.base}/router-info", str(OTHER))
        assert "not allowed" in answer["error"]
        for path, status in ((f"/gateway/{OTHER}", 403), ("/gateway/nope", 404), ("/", 404)):
            with pytest.raises(InvalidStatus) as refused:
                await StationEmulator.connect(harness.base + path, OTHER)
            assert refused.value.response.status_code == status
        async with await harness.station(GATEWAY):
            pass


async def test_garbage_oversize_and_floods_cost_only_the_sender() -> None:
    async with running(max_message_bytes=1024, rate_limit_per_s=5) as harness:
        good = await harness.station(GATEWAY)
        bad = await harness.station(OTHER)
        for garbage in (b"\x00\x01", "not json", '{"msgtype": "nonsense"}', "[]"):
            await bad.send(garbage)
        await bad.send("x" * 2000)
        with pytest.raises(ConnectionClosed) as closed:
            await receive(bad)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        event = await harness.event()
        assert isinstance(event, GatewayDisconnected) and event.gateway_id == OTHER

        for _ in range(8):  # the fixed test clock never refills the bucket of 5
            await good.uplink(UPDF, data_rate=0, frequency_hz=868_100_000)
        for _ in range(4):
            assert isinstance(await harness.event(), UplinkFrame)
        await good.send({"msgtype": "timesync", "txtime": 1})
        await asyncio.sleep(0.05)
        assert harness.backend.drop_counts == {
            "binary_frame": 1,
            "not_json": 1,
            "unknown_msgtype": 1,
            "not_an_object": 1,
            "oversized": 1,
            "rate_limited": 4,
        }
        await good.close()


async def test_event_queue_bound() -> None:
    async with running(max_queue=3) as harness:
        station = await StationEmulator.connect(harness.uri(GATEWAY), GATEWAY)
        for _ in range(4):
            await station.uplink(UPDF, data_rate=0, frequency_hz=868_100_000)
        await station.send({"msgtype": "timesync", "txtime": 1})
        await receive(station)  # every uplink before it has been handled
        assert harness.backend.drop_counts == {"queue_full": 2}
        assert isinstance(await harness.event(), GatewayConnected)
        assert [type(await harness.event()) for _ in range(2)] == [UplinkFrame, UplinkFrame]
        await station.close()


async def test_reconnect_replaces_the_old_connection() -> None:
    async with running() as harness:
        old = await harness.station()
        new = await StationEmulator.connect(harness.uri("1:2:3:4"), GATEWAY)
        replaced = await harness.event()
        assert isinstance(replaced, GatewayDisconnected) and "replaced" in replaced.reason
        assert isinstance(await harness.event(), GatewayConnected)
        with pytest.raises(ConnectionClosed):
            await receive(old)
        await new.uplink(UPDF, data_rate=0, frequency_hz=868_100_000)
        assert isinstance(await harness.event(), UplinkFrame)
        await new.close()
        assert isinstance(await harness.event(), GatewayDisconnected)


async def test_configure_pushes_a_new_router_config() -> None:
    async with running() as harness:
        async with await harness.station() as station:
            await station.hello()
            plan = GatewayConfiguration(
                GATEWAY,
                "2",
                (
                    LoRaChannel(868_100_000, 125_000, (7, 8, 9, 10, 11, 12)),
                    LoRaChannel(868_300_000, 125_000, (7, 8, 9, 10, 11, 12)),
                ),
            )
            await harness.backend.configure(plan)
            config = await receive(station)
            assert config["upchannels"] == [[868_100_000, 0, 5], [868_300_000, 0, 5]]
            bad = GatewayConfiguration(GATEWAY, "3", (LoRaChannel(915_000_000, 125_000, (7,)),))
            with pytest.raises(BackendError, match="outside EU868"):
                await harness.backend.configure(bad)
        assert isinstance(await harness.event(), GatewayDisconnected)
        async with await harness.station() as station:  # remembered for the next connection
            assert len((await station.hello())["upchannels"]) == 2


async def test_bind_failure_is_a_backend_error() -> None:
    async with running() as harness:
        clash = BasicStationBackend(parse_options({"bind": f"127.0.0.1:{harness.backend.port}"}))
        with pytest.raises(BackendError, match="cannot listen"):
            await clash.start()
        with pytest.raises(BackendError, match="not started"):
            _ = clash.port


async def test_gps_timed_downlink_as_dnsched_over_the_connection() -> None:
    at = GPS_NOW + 10 * NS_PER_S
    modulation = LoRaModulation(125_000, 9)
    item = DownlinkItem(
        b"\x60" + bytes(11), DownlinkTxInfo(869_525_000, 14, modulation, GPSEpoch(at))
    )
    async with (
        running(gps_timed_downlinks="dnsched") as harness,
        await harness.station() as station,
    ):
        assert (await station.hello())["msgtype"] == "router_config"
        ack = await harness.backend.send_downlink(DownlinkFrame(21, GATEWAY, (item,)))
        assert ack.items == (TxAckStatus.OK,)
        dnsched = await receive(station)
        assert dnsched["msgtype"] == "dnsched"
        assert dnsched["schedule"][0]["gpstime"] == at // 1000


def test_gps_timed_downlinks_option_is_checked() -> None:
    with pytest.raises(BackendConfigError, match="gps_timed_downlinks"):
        parse_options({"gps_timed_downlinks": "smoke-signals"})
