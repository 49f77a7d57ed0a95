"""Store and forward: a 1-hour upstream outage at 10 uplinks/s, spooled, then replayed to a real
Mosquitto broker (the issue's target: the replay completes).

- spool: 36,000 uplinks offered to an ``UpstreamBridge`` whose broker is down, the wall clock
  (an input) advancing 100 ms per uplink, so the spool commits once per simulated second as
  it would in the field; reports the rate and the bytes the process wrote to disk per uplink
  (``/proc/self/io`` write_bytes: SQLite's WAL and checkpoints included).
- replay: the broker starts, a subscriber connects, and the bridge reconnects; timed until the
  broker has acknowledged every uplink (QoS 1) and the subscriber has received every one of
  them (checked frame by frame, parsed with chirpstack-api). The bytes written during the
  replay (spool rows deleted) are reported too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt
from chirpstack_api import gw

from appliance.bridge import UpstreamBridge, parse_bridge_config
from appliance.lorawan.identifiers import EUI64
from bench.protocol import Result
from hal.model import (
    CodeRate,
    DownlinkFrame,
    DownlinkTxAck,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from tests.mosquitto_broker import MosquittoBroker

GATEWAY = EUI64("0016c001ff10a235")
DEVICES = 100
RATE_PER_S = 10
T0 = 1_790_000_000 * 1_000_000_000
_TX = UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7, CodeRate.CR_4_5))


def _write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def _uplink(index: int, received_ns: int) -> UplinkFrame:
    """The ``index``-th uplink: the devices take turns, each counting up (20-byte payload)."""
    dev_addr = 0x26011000 + index % DEVICES
    f_cnt = index // DEVICES
    phy = (
        b"\x40"
        + dev_addr.to_bytes(4, "little")
        + b"\x00"
        + (f_cnt & 0xFFFF).to_bytes(2, "little")
        + b"\x01"
        + bytes(20)
        + index.to_bytes(4, "little")  # stands in for the MIC: every frame distinct
    )
    rx_info = UplinkRxInfo(
        gateway_id=GATEWAY,
        uplink_id=index & 0xFFFF_FFFF,
        rssi=-80,
        snr=6.5,
        context=(index * 100_000 & 0xFFFF_FFFF).to_bytes(4, "big"),
        gw_time_ns=received_ns,
        ns_time_ns=received_ns,
    )
    return UplinkFrame(phy, _TX, rx_info)


async def _transmit(frame: DownlinkFrame) -> DownlinkTxAck:
    return DownlinkTxAck(frame.gateway_id, frame.downlink_id, (TxAckStatus.OK,))


class _Counter:
    """A subscriber that checks every uplink arrives: the last frame index seen per device."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.in_order = True
        self._last: dict[bytes, int] = {}

    def take(self, payload: bytes) -> None:
        phy = gw.UplinkFrame.FromString(payload).phy_payload
        index = int.from_bytes(phy[-4:], "little")
        if index not in self.seen:
            previous = self._last.get(phy[1:5], -1)
            self.in_order = self.in_order and index > previous
            self._last[phy[1:5]] = index
            self.seen.add(index)


async def _subscribe(broker: MosquittoBroker, counter: _Counter, ready: asyncio.Event) -> None:
    async with aiomqtt.Client(broker.host, broker.port, timeout=30) as client:
        await client.subscribe("eu868/gateway/+/event/up", qos=1)
        ready.set()
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            counter.take(message.payload)


async def _outage(frames: int, directory: Path, *, broker_nodelay: bool = False) -> list[Result]:
    # Not started yet: the link is down. Mosquitto's default leaves Nagle's algorithm on for
    # its PUBACKs, which (with the client's delayed ACKs) caps a QoS 1 stream; brokers tuned
    # with set_tcp_nodelay show what the bridge itself can do.
    extra = "set_tcp_nodelay true" if broker_nodelay else ""
    broker = MosquittoBroker(directory / "mosquitto", extra_config=extra)
    clock = [T0]
    gate = asyncio.Event()

    async def reconnect_wait(delay_s: float) -> None:
        await gate.wait()

    config = parse_bridge_config(
        {"mode": "forwarder", "mqtt": {"url": broker.url}, "reconnect_min_s": 0.01}
    )
    bridge = UpstreamBridge(
        config,
        data_dir=directory,
        gateway_ids=(GATEWAY,),
        transmit=_transmit,
        wall_clock=lambda: clock[0],
        reconnect_wait=reconnect_wait,
    )
    await bridge.start()
    subscriber: asyncio.Task[None] | None = None
    try:
        while not bridge.counters.link_errors:
            await asyncio.sleep(0.01)
        uplinks = [
            _uplink(index, T0 + index * 1_000_000_000 // RATE_PER_S) for index in range(frames)
        ]
        written = _write_bytes()
        start = time.perf_counter()
        for frame in uplinks:
            clock[0] = frame.rx_info.ns_time_ns or T0
            bridge.offer_uplink(frame)
        spool_seconds = time.perf_counter() - start
        clock[0] += 60_000_000_000  # the periodic flush commits the last frames
        while bridge.counters.uplinks_spooled < frames:
            await asyncio.sleep(0.01)
        spooled_bytes = _write_bytes() - written
        if bridge.counters.dropped:
            raise AssertionError(f"the spool dropped uplinks: {dict(bridge.counters.dropped)}")

        broker.start()
        counter = _Counter()
        ready = asyncio.Event()
        subscriber = asyncio.create_task(_subscribe(broker, counter, ready))
        await ready.wait()
        written = _write_bytes()
        start = time.perf_counter()
        gate.set()
        async with asyncio.timeout(frames / 100 + 60):
            while bridge.backlog or len(counter.seen) < frames:
                await asyncio.sleep(0.005)
        replay_seconds = time.perf_counter() - start
        replay_bytes = _write_bytes() - written
        if len(counter.seen) != frames or not counter.in_order:
            raise AssertionError("the replay lost or reordered uplinks")
    finally:
        if subscriber is not None:
            subscriber.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await subscriber
        await bridge.stop()
        broker.kill()
    per_frame = spooled_bytes / frames
    return [
        Result(
            f"bridge spool (link down): {per_frame:,.0f} B written/uplink", frames, spool_seconds
        ),
        Result(
            f"bridge replay -> Mosquitto: {replay_bytes / frames:,.0f} B written/uplink",
            frames,
            replay_seconds,
        ),
    ]


def run(quick: bool) -> list[Result]:
    logging.getLogger("appliance.bridge").setLevel(logging.ERROR)  # the outage is on purpose
    if quick:
        with tempfile.TemporaryDirectory(prefix="bench-bridge-") as directory:
            return asyncio.run(_outage(2_000, Path(directory)))
    results = []
    for broker_nodelay in (False, True):
        with tempfile.TemporaryDirectory(prefix="bench-bridge-") as directory:
            outage = _outage(3_600 * RATE_PER_S, Path(directory), broker_nodelay=broker_nodelay)
            results += asyncio.run(outage)
    return results


if __name__ == "__main__":
    for result in run("--quick" in sys.argv):
        print(result.line())
