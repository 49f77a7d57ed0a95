"""The simulated packet forwarder of ``appliance simulate`` against the network server's own
Semtech UDP core, both sans-IO, datagrams passed by hand on a fake clock: uplinks arrive as
the frames the virtual radio heard, downlinks come back as transmissions on the air with the
TX_ACK status of the concentrator's just-in-time queue."""

from __future__ import annotations

import random

from appliance.lorawan.identifiers import EUI64
from appliance.simulation.forwarder import Forwarder, item_of, rxpk_of
from hal.model import (
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxInfo,
    LoRaChannel,
    LoRaModulation,
    TxAckStatus,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from hal.semtech_udp import SemtechUDPCore
from hal.semtech_udp.core import DownlinkResult
from hal.virtual_radio import AirPacket, Position, VirtualConcentrator, VirtualConcentratorConfig

S = 1_000_000_000
MS = 1_000_000
GATEWAY = EUI64(0xFFFE000200000001)
ADDRESS = ("127.0.0.1", 40_000)
CHANNEL = LoRaChannel(868_100_000, 125_000, (7, 8, 9, 10, 11, 12))


class Link:
    """A forwarder and the server's core, with the datagrams between them passed by hand."""

    def __init__(self) -> None:
        self.now = 10 * S
        concentrator = VirtualConcentrator(
            VirtualConcentratorConfig(GATEWAY, (CHANNEL,), unix_ns_at_zero=1_700_000_000 * S),
            boot_ns=0,
            rng=random.Random(1),
        )
        self.forwarder = Forwarder(concentrator, now_ns=self.now)
        self.core = SemtechUDPCore()
        self.heard: list[object] = []

    def exchange(self) -> list[object]:
        """Run the forwarder to ``now`` and carry datagrams both ways until quiet."""
        output = self.forwarder.poll(self.now)
        self.heard += output.transmissions
        for datagram in output.datagrams:
            self.core.datagram_received(datagram, ADDRESS, self.now, self.now)
        while outgoing := self.core.datagrams_to_send():
            for datagram, _ in outgoing:
                for reply in self.forwarder.datagram_received(datagram, self.now):
                    self.core.datagram_received(reply, ADDRESS, self.now, self.now)
        return self.core.events_to_deliver()


def _uplink(link: Link) -> UplinkFrame:
    packet = AirPacket(
        b"\x40" + bytes(range(1, 20)),
        868_100_000,
        LoRaModulation(125_000, 7),
        14,
        Position(300, 0),
        link.now,
    )
    link.forwarder.concentrator.air(packet)
    link.now = packet.end_ns + MS
    (frame,) = [e for e in link.exchange() if isinstance(e, UplinkFrame)]
    return frame


def _downlink(frame: UplinkFrame, delay_ns: int, downlink_id: int = 1) -> DownlinkFrame:
    info = DownlinkTxInfo(
        frequency=868_100_000,
        power=14,
        modulation=LoRaModulation(125_000, 7, polarization_inversion=True),
        timing=Delay(delay_ns),
        context=frame.rx_info.context,
    )
    return DownlinkFrame(downlink_id, GATEWAY, (DownlinkItem(b"\x60" + bytes(15), info),))


def test_uplinks_reach_the_server_with_their_radio_metadata() -> None:
    link = Link()
    link.exchange()  # PULL_DATA: the gateway is known and reachable for downlinks
    frame = _uplink(link)
    assert frame.phy_payload == b"\x40" + bytes(range(1, 20))
    assert frame.rx_info.gateway_id == GATEWAY
    assert frame.tx_info.frequency == 868_100_000
    modulation = frame.tx_info.modulation
    assert isinstance(modulation, LoRaModulation)
    assert (modulation.bandwidth, modulation.spreading_factor) == (125_000, 7)
    assert frame.rx_info.time_since_gps_epoch_ns is not None
    assert link.forwarder.counters["push_ack"] == 1 and link.forwarder.counters["pull_ack"] == 1


def test_a_downlink_goes_on_the_air_at_its_time_and_is_acknowledged() -> None:
    link = Link()
    link.exchange()
    frame = _uplink(link)
    handle = link.core.send_downlink(_downlink(frame, 1 * S), link.now)
    (result,) = [e for e in link.exchange() if isinstance(e, DownlinkResult)]
    assert result.handle == handle and result.ack.items == (TxAckStatus.OK,)
    assert link.heard == []
    link.now += 1 * S
    link.exchange()
    assert len(link.heard) == 1


def test_the_concentrator_refusals_come_back_in_the_tx_ack() -> None:
    link = Link()
    link.exchange()
    frame = _uplink(link)
    link.core.send_downlink(_downlink(frame, 1 * S, 1), link.now)
    link.exchange()
    link.core.send_downlink(_downlink(frame, 1 * S, 2), link.now)  # the same instant
    (second,) = [e for e in link.exchange() if isinstance(e, DownlinkResult)]
    assert second.ack.items == (TxAckStatus.COLLISION_PACKET,)
    link.core.send_downlink(_downlink(frame, 0, 3), link.now + 1 * S)  # long past
    (late,) = [e for e in link.exchange() if isinstance(e, DownlinkResult)]
    assert late.ack.items == (TxAckStatus.TOO_LATE,)


def test_keepalives_and_statistics_follow_their_intervals() -> None:
    link = Link()
    link.exchange()
    assert link.forwarder.counters["pull_data"] == 1
    link.now += 10 * S
    link.exchange()
    assert link.forwarder.counters["pull_data"] == 2
    link.now += 20 * S
    events = link.exchange()
    assert any(type(e).__name__ == "GatewayStats" for e in events)


def test_a_txpk_round_trips_through_the_forwarders_reading() -> None:
    frame = UplinkFrame(
        b"\x40" * 12,
        UplinkTxInfo(868_300_000, LoRaModulation(125_000, 9)),
        UplinkRxInfo(GATEWAY, rssi=-80, snr=5.5, context=(123456).to_bytes(4, "big")),
    )
    entry = rxpk_of(frame)
    assert (entry["tmst"], entry["freq"], entry["datr"], entry["lsnr"]) == (
        123456,
        868.3,
        "SF9BW125",
        5.5,
    )
    item = item_of(
        {
            "imme": False,
            "tmst": 99,
            "freq": 869.525,
            "powe": 27,
            "datr": "SF12BW125",
            "codr": "4/5",
            "ipol": True,
            "data": "YAAA",
        }
    )
    assert item.tx_info.frequency == 869_525_000
    assert item.tx_info.context == (99).to_bytes(4, "big")
    assert item.phy_payload == b"\x60\x00\x00"
