"""A seeded random source makes a device replay exactly; another seed makes another device."""

from __future__ import annotations

from appliance.devicesim import EndDevice, Transmission

from .network import Network, deliver, device, next_tx, otaa_config


def _run(seed: int) -> list[Transmission]:
    config = otaa_config("1.0.3", uplink_jitter_s=3)
    dev: EndDevice = device(config, seed=seed)
    network = Network()
    sent = [next_tx(dev), next_tx(dev)]  # the first join-request goes unanswered
    assert deliver(dev, network.accept_join(sent[-1])).accepted
    sent += [next_tx(dev) for _ in range(10)]
    return sent


def test_same_seed_same_air_traffic() -> None:
    assert _run(11) == _run(11)


def test_another_seed_other_choices() -> None:
    first, second = _run(11), _run(12)
    assert [tx.phy_payload for tx in first] != [tx.phy_payload for tx in second]
    assert [tx.frequency for tx in first] != [tx.frequency for tx in second]
