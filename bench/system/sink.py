"""The application side of the load, in a process of its own: receives ``up`` events and
timestamps each on the monotonic clock (shared by every process of the machine).

``python -m bench.system.sink mqtt HOST PORT OUT`` subscribes to ChirpStack's topics
(``application/+/device/+/event/up``) on a broker; ``python -m bench.system.sink sse URL TOKEN
OUT`` reads the appliance's live stream (``/api/stream/sse?kinds=up``). It prints ``ready``
once subscribed and ``count N`` every 0.2 s; the line ``dump`` on its standard input writes
what it received to ``OUT`` (``<monotonic ns> <DevEUI> <FCnt>`` per line; ``<ns> missed <N>``
where the live stream skipped N items for a slow reader) and prints
``dumped N``; end of input ends it. Events are only matched with a regular expression here, so
the sink keeps up with far more than the appliance sends.
"""

from __future__ import annotations

import http.client
import re
import select
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Final

_F_CNT: Final = re.compile(rb'"fCnt":\s*(\d+)')
_DEV_EUI: Final = re.compile(rb'"devEui":\s*"([0-9a-fA-F]{16})"')
_MISSED: Final = re.compile(rb'"type":\s*"missed",\s*"count":\s*(\d+)')
_TOPIC: Final = "application/+/device/+/event/up"


class Records:
    def __init__(self) -> None:
        self.lines: list[tuple[int, bytes, int]] = []
        self.ready = threading.Event()
        self.error: str | None = None

    def add(self, dev_eui: bytes, body: bytes) -> None:
        stamp = time.monotonic_ns()
        found = _F_CNT.search(body)
        self.lines.append((stamp, dev_eui.lower(), int(found.group(1)) if found else -1))

    def dump(self, path: Path) -> int:
        count = len(self.lines)
        text = "".join(f"{t} {d.decode()} {f}\n" for t, d, f in self.lines[:count])
        path.write_text(text, encoding="ascii")
        return count


def _mqtt(records: Records, host: str, port: int) -> None:
    import paho.mqtt.client as mqtt  # noqa: PLC0415 - only the MQTT sink needs it
    from paho.mqtt.enums import CallbackAPIVersion  # noqa: PLC0415

    def on_connect(client: mqtt.Client, *_: object) -> None:
        client.subscribe(_TOPIC, qos=1)

    def on_subscribe(*_: object) -> None:
        records.ready.set()

    def on_message(_client: object, _userdata: object, message: mqtt.MQTTMessage) -> None:
        parts = message.topic.split("/")
        dev_eui = parts[3].encode() if len(parts) > 3 else b"?"
        records.add(dev_eui, bytes(message.payload))

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-sink")
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(host, port, keepalive=30)
    client.loop_forever(retry_first_connection=True)


def _sse(records: Records, url: str, token: str) -> None:
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port or 80)
    connection.request(
        "GET", "/api/stream/sse?kinds=up", headers={"Authorization": f"Bearer {token}"}
    )
    response = connection.getresponse()
    if response.status != 200:
        records.error = f"live stream refused: HTTP {response.status}"
        records.ready.set()
        return
    while True:
        line = response.readline()
        if not line:
            records.error = "live stream ended"
            return
        if line.startswith(b": connected"):
            records.ready.set()
        elif line.startswith(b"data:"):
            skipped = _MISSED.search(line)
            if skipped:  # the stream skipped items this slow reader could not take in time
                records.lines.append((time.monotonic_ns(), b"missed", int(skipped.group(1))))
                continue
            found = _DEV_EUI.search(line)
            records.add(found.group(1) if found else b"?", line)


def main() -> None:
    mode, *args, out = sys.argv[1:]
    records = Records()
    if mode == "mqtt":
        target = (records, args[0], int(args[1]))
        thread = threading.Thread(target=_mqtt, args=target, daemon=True)
    else:
        thread = threading.Thread(target=_sse, args=(records, args[0], args[1]), daemon=True)
    thread.start()
    if not records.ready.wait(15):
        print("error not subscribed within 15 s", flush=True)
        return
    print("ready" if records.error is None else f"error {records.error}", flush=True)
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], 0.2)
        if readable:
            command = sys.stdin.readline()
            if not command:
                return
            if command.strip() == "dump":
                print(f"dumped {records.dump(Path(out))}", flush=True)
        print(f"count {len(records.lines)}", flush=True)


if __name__ == "__main__":
    main()
