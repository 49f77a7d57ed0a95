"""snapshot()/restore(): a device keeps its session, counters and settings across runs."""

from __future__ import annotations

import json
import random

import pytest

from appliance.devicesim import EndDevice, SnapshotError
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.frames import JoinRequest
from appliance.lorawan.maccommands import DlChannelReq, LinkADRReq, NewChannelReq, RXTimingSetupAns

from .network import S, abp_config, device, exchange, joined, next_tx, otaa_config


def _through_json(dev: EndDevice) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(json.dumps(dev.snapshot()))
    return loaded


def test_a_restored_device_resumes_its_session() -> None:
    dev, network, _ = joined(otaa_config("1.1"))
    commands = (
        NewChannelReq(3, 867_100_000, 0, 5),
        DlChannelReq(3, 869_100_000),
        LinkADRReq(data_rate=3, tx_power=1, ch_mask=0b1001, ch_mask_cntl=0, nb_trans=2),
    )
    exchange(dev, network, commands=commands, on_port_0=True)
    exchange(dev, network, confirmed=True, f_port=9, payload=b"q")  # an ACK is owed
    restored = EndDevice.restore(
        dev.config, _through_json(dev), rng=random.Random(5), now_ns=1000 * S
    )
    assert restored.session == dev.session
    assert restored.settings == dev.settings
    assert restored.channels == dev.channels
    assert restored.pending_mac_commands == dev.pending_mac_commands
    tx = next_tx(restored)
    assert tx.start_ns == 1000 * S and tx.data_rate == 3
    uplink = network.read_uplink(tx)  # same keys and counters: the network accepts it
    assert uplink.frame.f_ctrl.ack and uplink.f_cnt == 2


def test_sticky_answers_survive_a_restart() -> None:
    dev, network, _ = joined(otaa_config("1.0.3"))
    from appliance.lorawan.maccommands import RXTimingSetupReq  # noqa: PLC0415

    exchange(dev, network, commands=(RXTimingSetupReq(2),))
    restored = EndDevice.restore(dev.config, _through_json(dev), rng=random.Random(1))
    assert restored.pending_mac_commands == (RXTimingSetupAns(),)


def test_dev_nonce_counter_survives_a_restart() -> None:
    config = otaa_config("1.0.4")
    dev = device(config)
    next_tx(dev)
    next_tx(dev)
    restored = EndDevice.restore(config, _through_json(dev), rng=random.Random(1))
    request = decode_phy_payload(next_tx(restored).phy_payload)
    assert isinstance(request, JoinRequest) and request.dev_nonce == 2


def test_random_dev_nonces_are_not_reused_after_a_restart() -> None:
    config = otaa_config("1.0.3")
    dev = device(config, seed=7)
    used = {_nonce(next_tx(dev).phy_payload) for _ in range(5)}
    restored = EndDevice.restore(config, _through_json(dev), rng=random.Random(7))
    again = {_nonce(next_tx(restored).phy_payload) for _ in range(5)}
    assert not used & again


def _nonce(phy: bytes) -> int:
    request = decode_phy_payload(phy)
    assert isinstance(request, JoinRequest)
    return request.dev_nonce


def test_snapshot_of_another_device_is_refused() -> None:
    snapshot = device(abp_config()).snapshot()
    other = abp_config(dev_eui="0102030405060708")
    with pytest.raises(SnapshotError, match="not of"):
        EndDevice.restore(other, snapshot, rng=random.Random(1))


def test_snapshot_of_another_channel_plan_is_refused() -> None:
    snapshot = device(abp_config()).snapshot()
    with pytest.raises(SnapshotError, match="US915"):
        EndDevice.restore(abp_config(region="US915", data_rate=0), snapshot, rng=random.Random(1))


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s.pop("session"),
        lambda s: s.update(format=99),
        lambda s: s["settings"].update(data_rate="fast"),
        lambda s: s["mac"].update(answers="zz"),
        lambda s: s["channels"].update(slots=[[1, 2]]),
    ],
)
def test_malformed_snapshots_are_refused(damage: object) -> None:
    snapshot = json.loads(json.dumps(device(abp_config()).snapshot()))
    damage(snapshot)  # type: ignore[operator]
    with pytest.raises(SnapshotError):
        EndDevice.restore(abp_config(), snapshot, rng=random.Random(1))
