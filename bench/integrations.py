"""Integrations: application events through the durable outbox to a real Mosquitto.

- publish: ``up`` events of 100 devices (two gateways, a decoded object: about 1 KB of JSON
  each), built beforehand with the application server's builders, handed to
  ``IntegrationManager.record`` with up to ``IN_FLIGHT`` calls at a time (as many uplinks in
  the server at once) and published by the global MQTT integration in ChirpStack's JSON to a
  local Mosquitto. Timed from the first ``record`` to the broker having every event (QoS 1:
  its PUBACK; QoS 0: written to the socket). A subscriber in its own process checks that
  every event arrived, in order per device. The bytes the process wrote to disk per event
  (``/proc/self/io`` write_bytes: outbox rows, WAL, checkpoints, deletions after delivery)
  are in the name, with the CPU time the process spent per event (all its threads: what one
  core has to give, whatever else the machine is doing).
- serial: the same, each ``record`` awaited before the next (one transaction and fsync per
  event: a quiet network's single uplinks), to show what one commit per event costs. The
  outbox's ``commit_interval_s`` is 0 here: back to back, the appends would otherwise wait
  for it (as a steady stream should), where a quiet network's come long after it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from appliance.app.events import EventRecord
from appliance.integrations import IntegrationManager, OutboxLimits, parse_global_mqtt
from bench.events import _records
from bench.protocol import Result
from tests.mosquitto_broker import MosquittoBroker

IN_FLIGHT = 256

_SUBSCRIBER = textwrap.dedent(
    """
    import asyncio, sys
    import aiomqtt

    async def main(port, expected):
        last, received, disordered = {}, 0, 0
        async with aiomqtt.Client("127.0.0.1", port, max_queued_incoming_messages=0) as client:
            await client.subscribe("application/#", qos=1)
            print("ready", flush=True)
            async for message in client.messages:
                # The device from the topic, the counter from the body without parsing all of
                # it: this process shares the machine with the one being measured.
                device = message.topic.value.split("/")[3]
                at = message.payload.index(b'"fCnt":') + 7
                f_cnt = int(message.payload[at : message.payload.index(b",", at)])
                disordered += f_cnt <= last.get(device, -1)
                last[device] = f_cnt
                received += 1
                if received == expected:
                    break
        print(received, disordered, flush=True)

    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
    """
)


def _write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


async def _report(*_: object) -> None:
    return None


async def _enqueue(*_: object) -> None:
    raise ValueError("no downlinks in this benchmark")


async def _feed(integrations: IntegrationManager, records: list[EventRecord], callers: int) -> None:
    """``callers`` at a time each record one event and, once it is durable, the next."""
    remaining = iter(records)

    async def caller() -> None:
        for record in remaining:
            await integrations.record([record])

    await asyncio.gather(*(caller() for _ in range(callers)))


async def _publish(
    records: list[EventRecord], directory: Path, *, qos: int, in_flight: int
) -> Result:
    broker = MosquittoBroker(directory / "mosquitto", extra_config="set_tcp_nodelay true")
    broker.start()
    subscriber = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _SUBSCRIBER,
        str(broker.port),
        str(len(records)),
        stdout=asyncio.subprocess.PIPE,
    )
    assert subscriber.stdout is not None
    config = parse_global_mqtt(broker.url, {"qos": qos, "downlinks": False})
    integrations = IntegrationManager(
        directory,
        _NoIntegrations(),
        global_mqtt=config,
        enqueue=_enqueue,
        report=_report,
        limits=OutboxLimits(max_events=len(records) + 1),
    )
    try:
        assert await asyncio.wait_for(subscriber.stdout.readline(), 30) == b"ready\n"
        await integrations.start()
        if in_flight == 1:
            integrations.outbox.commit_interval_s = 0.0
        written = _write_bytes()
        cpu = time.process_time()
        start = time.perf_counter()
        await _feed(integrations, records, in_flight)
        while integrations.status()["backlog"]:
            await asyncio.sleep(0.001)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        received, disordered = (await asyncio.wait_for(subscriber.stdout.readline(), 60)).split()
        await integrations.stop()  # deletes the delivered rows: part of the cost
        written = _write_bytes() - written
        commits = integrations.status()["outbox"]["commits"]
    finally:
        if subscriber.returncode is None:
            subscriber.kill()
        await subscriber.wait()
        broker.kill()
    if int(received) != len(records) or int(disordered):
        raise AssertionError(f"received {received} of {len(records)}, {disordered} out of order")
    mode = f"{in_flight} in flight" if in_flight > 1 else "serial"
    name = (
        f"integrations MQTT QoS {qos}, {mode}: {written / len(records):,.0f} B written/event, "
        f"{len(records) / commits:,.1f} events/commit, {cpu / len(records) * 1e6:,.0f} µs CPU/event"
    )
    return Result(name, len(records), seconds)


class _NoIntegrations:
    def integrations(self, app_id: object = None) -> list[object]:
        return []


def run(quick: bool) -> list[Result]:
    logging.getLogger("appliance.integrations").setLevel(logging.WARNING)
    count = 2_000 if quick else 20_000
    records = _records(count)
    results = []
    for qos, in_flight, events in ((1, IN_FLIGHT, count), (0, IN_FLIGHT, count), (1, 1, 1_000)):
        with tempfile.TemporaryDirectory(prefix="bench-integrations-") as directory:
            chosen = records[: min(events, count)]
            results.append(
                asyncio.run(_publish(chosen, Path(directory), qos=qos, in_flight=in_flight))
            )
    return results


if __name__ == "__main__":
    for result in run("--quick" in sys.argv):
        print(result.line())
