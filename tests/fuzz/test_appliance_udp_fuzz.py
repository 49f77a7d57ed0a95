"""A running ``appliance run`` fed Semtech UDP datagrams made up by Hypothesis over real
loopback UDP: garbage, valid headers with any JSON, ``rxpk`` objects with wrong types and
values, PHYPayloads of every shape, thousands of gateway IDs. After each batch the appliance
still answers a PULL_DATA; at the end it is alive, logged no traceback, answers its API, and
its memory grew by a bounded amount."""

from __future__ import annotations

import base64
import contextlib
import json
import random
import socket
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.lorawan.identifiers import EUI64
from bench.system.fleet import FleetSpec, Traffic, provision
from bench.system.processes import Appliance, peak_rss, sample, start_appliance, write_config
from hal.semtech_udp.packets import PacketType, PullData

PROBE = EUI64(0x0102030405060708)

_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
_anything = st.recursive(
    _scalar,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
_phy = st.one_of(
    st.binary(max_size=40), st.just(bytes.fromhex("40f17dbe4900020001954378762b11ff0d"))
)
_rxpk = st.fixed_dictionaries(
    {},
    optional={
        "tmst": st.one_of(st.integers(0, 2**32 - 1), _scalar),
        "time": st.one_of(st.just("2026-11-21T12:00:00.000000Z"), st.text(max_size=30)),
        "tmms": st.one_of(st.integers(0, 2**50), _scalar),
        "chan": st.one_of(st.integers(0, 9), _scalar),
        "rfch": st.one_of(st.integers(0, 1), _scalar),
        "freq": st.one_of(st.floats(860, 870), st.floats(allow_nan=False), _scalar),
        "stat": st.one_of(st.sampled_from([1, 0, -1]), _scalar),
        "modu": st.one_of(st.sampled_from(["LORA", "FSK"]), _scalar),
        "datr": st.one_of(
            st.sampled_from(["SF7BW125", "SF12BW125", "SF7BW500", "SF5BW800", 50000]), _scalar
        ),
        "codr": st.one_of(st.sampled_from(["4/5", "4/8", "OFF"]), _scalar),
        "rssi": st.one_of(st.integers(-200, 50), _scalar),
        "lsnr": st.one_of(st.floats(-30, 30), _scalar),
        "size": st.one_of(st.integers(0, 300), _scalar),
        "data": st.one_of(_phy.map(lambda b: base64.b64encode(b).decode()), _scalar),
    },
)
_body = st.one_of(
    st.fixed_dictionaries({"rxpk": st.lists(_rxpk, max_size=4)}),
    st.fixed_dictionaries({"stat": st.dictionaries(st.text(max_size=5), _scalar, max_size=6)}),
    _anything,
).map(lambda value: json.dumps(value).encode())


@st.composite
def datagrams(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "packet", "packet"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    version = draw(st.sampled_from([1, 2, 2, 2, 0, 3]))
    packet_type = draw(st.sampled_from([0, 0, 0, 2, 5, 1, 3, 4, 9]))
    gateway = draw(st.one_of(st.integers(0, 2**64 - 1), st.integers(1, 20)))
    head = bytes((version,)) + draw(st.binary(min_size=2, max_size=2)) + bytes((packet_type,))
    body = draw(st.one_of(_body, st.binary(max_size=100)))
    return head + gateway.to_bytes(8, "big") + body


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    data_dir = tmp_path_factory.mktemp("udp-fuzz") / "data"
    provision(data_dir, FleetSpec(20, gateways=2))
    write_config(data_dir, {"log_level": "info"})
    appliance = start_appliance(data_dir)
    try:
        yield appliance
    finally:
        appliance.stop()


def _answers_pull_data(appliance: Appliance, timeout_s: float = 5.0) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(appliance.udp)
        probe.settimeout(0.2)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            probe.send(PullData(2, 7, PROBE).encode())
            try:
                answer = probe.recv(64)
            except (TimeoutError, ConnectionRefusedError):
                continue
            if len(answer) >= 4 and answer[3] == PacketType.PULL_ACK:
                return True
    return False


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(datagrams(), min_size=1, max_size=8))
def test_made_up_datagrams_leave_the_radio_side_answering(
    running: Appliance, batch: list[bytes]
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.connect(running.udp)
        for datagram in batch:
            # A datagram too large for UDP never leaves; there is nothing to test then.
            with contextlib.suppress(OSError):
                sender.send(datagram)
    assert _answers_pull_data(running), running.log_text()[-2000:]


@pytest.mark.slow
def test_a_flood_of_gateways_and_frames_keeps_memory_bounded(running: Appliance) -> None:
    """20,000 datagrams: about 6,700 gateway IDs never seen (the appliance registers a bounded
    number), valid frames of the provisioned devices and random ones; then the appliance is
    alive, logged no traceback, answers its API, and its resident memory grew < 40 MiB."""
    rng = random.Random(11)
    traffic = Traffic(FleetSpec(20, gateways=2))
    valid = [d for f in traffic.frames(2_000, spacing_us=1000) for _, d in f.datagrams]
    before = sample(running.pid)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.connect(running.udp)
        for n in range(20_000):
            if n % 3 == 0:
                datagram = valid[(n // 3) % len(valid)]
            else:
                gateway = rng.getrandbits(64).to_bytes(8, "big") if n % 3 == 1 else bytes(8)
                phy = base64.b64encode(rng.randbytes(rng.randrange(1, 40))).decode()
                rxpk: dict[str, Any] = {"tmst": n, "freq": 868.1, "datr": "SF7BW125"}
                rxpk.update(codr="4/5", modu="LORA", rssi=-60, lsnr=5.5, size=1, data=phy)
                body = json.dumps({"rxpk": [rxpk]}).encode()
                datagram = bytes((2, n & 0xFF, n >> 8 & 0xFF, 0)) + gateway + body
            sender.send(datagram)
            if n % 200 == 0:
                time.sleep(0.02)  # a busy network, not a kernel buffer overflow
    assert _answers_pull_data(running)
    time.sleep(1.0)
    after = sample(running.pid)
    growth_mib = (after.rss_bytes - before.rss_bytes) / 2**20
    assert growth_mib < 40, (before.rss_bytes, after.rss_bytes, peak_rss(running.pid))
    with urllib.request.urlopen(running.url + "/health", timeout=10) as response:
        assert response.status == 200
    log = running.log_text()
    assert "Traceback" not in log, log[log.index("Traceback") - 300 :][:3000]
