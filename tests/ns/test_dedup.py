from __future__ import annotations

from appliance.lorawan.identifiers import EUI64
from appliance.ns.dedup import Deduplicator
from hal.model import CRCStatus, LoRaModulation, UplinkFrame, UplinkRxInfo, UplinkTxInfo

MS = 1_000_000
SF7 = LoRaModulation(125_000, 7)


def _frame(
    payload: bytes,
    gateway: int,
    snr: float,
    *,
    rssi: int = -80,
    crc: CRCStatus = CRCStatus.CRC_OK,
    frequency: int = 868_100_000,
) -> UplinkFrame:
    return UplinkFrame(
        payload,
        UplinkTxInfo(frequency, SF7),
        UplinkRxInfo(EUI64(gateway), snr=snr, rssi=rssi, crc_status=crc),
    )


def test_copies_within_the_window_become_one_uplink_best_first() -> None:
    dedup = Deduplicator(200 * MS)
    assert dedup.add(_frame(b"a", 1, 2.0), 0)
    assert not dedup.add(_frame(b"a", 2, 9.5), 50 * MS)
    assert not dedup.add(_frame(b"a", 3, 9.5, rssi=-60), 199 * MS)
    assert dedup.due(199 * MS) == []
    assert dedup.next_deadline_ns() == 200 * MS
    (uplink,) = dedup.due(200 * MS)
    assert [int(rx.gateway_id) for rx in uplink.rx_info] == [3, 2, 1]
    assert uplink.best.gateway_id == EUI64(3)
    assert uplink.first_seen_ns == 0
    assert len(dedup) == 0


def test_one_reception_per_gateway_and_the_strongest_wins() -> None:
    dedup = Deduplicator(200 * MS)
    dedup.add(_frame(b"a", 1, 1.0), 0)
    dedup.add(_frame(b"a", 1, 5.0), 1)
    dedup.add(_frame(b"a", 1, 3.0), 2)
    (uplink,) = dedup.due(200 * MS)
    assert [rx.snr for rx in uplink.rx_info] == [5.0]


def test_different_frames_and_frequencies_are_kept_apart_and_in_order() -> None:
    dedup = Deduplicator(200 * MS)
    dedup.add(_frame(b"a", 1, 1.0), 0)
    dedup.add(_frame(b"a", 1, 1.0, frequency=868_300_000), 10 * MS)  # a retransmission
    dedup.add(_frame(b"b", 1, 1.0), 20 * MS)
    ready = dedup.due(1_000 * MS)
    assert [(u.phy_payload, u.tx_info.frequency) for u in ready] == [
        (b"a", 868_100_000),
        (b"a", 868_300_000),
        (b"b", 868_100_000),
    ]
    # After the window the same bytes open a new window (a later retransmission).
    assert dedup.add(_frame(b"a", 1, 1.0), 2_000 * MS)


def test_bad_crc_and_overflow_are_counted_not_kept() -> None:
    dedup = Deduplicator(200 * MS, max_pending=2)
    assert not dedup.add(_frame(b"x", 1, 1.0, crc=CRCStatus.BAD_CRC), 0)
    dedup.add(_frame(b"a", 1, 1.0), 0)
    dedup.add(_frame(b"b", 1, 1.0), 0)
    assert not dedup.add(_frame(b"c", 1, 1.0), 0)
    assert dedup.drop_counts == {"crc_not_ok": 1, "dedup_full": 1}
    assert len(dedup.due(200 * MS)) == 2


def test_an_overloaded_appliance_refuses_new_frames_but_merges_copies_of_accepted_ones() -> None:
    dedup = Deduplicator(200 * MS)
    admitting = [True]
    dedup.admit = lambda: admitting[0]
    assert dedup.add(_frame(b"a", 1, 1.0), 0)
    admitting[0] = False
    assert not dedup.add(_frame(b"b", 1, 1.0), 10 * MS)  # refused: counted, nothing kept
    assert not dedup.add(_frame(b"a", 2, 7.0), 20 * MS)  # a copy of an accepted frame
    assert dedup.drop_counts == {"overloaded": 1}
    (uplink,) = dedup.due(1_000 * MS)
    assert uplink.phy_payload == b"a"
    assert [int(rx.gateway_id) for rx in uplink.rx_info] == [2, 1]
    admitting[0] = True
    assert dedup.add(_frame(b"b", 1, 1.0), 1_100 * MS)  # sent again once there is room
