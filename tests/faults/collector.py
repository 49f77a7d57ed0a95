"""An MQTT subscriber that outlives broker restarts: a persistent session (clean session off,
QoS 1), so with a broker that keeps its state on disk nothing published while it was away is
missed. Messages are kept in arrival order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class Collector:
    def __init__(self, port: int, topic: str, *, client_id: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        client.reconnect_delay_set(min_delay=1, max_delay=1)
        client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        client.on_subscribe = lambda *_: self._subscribed.set()
        client.on_message = self._message
        client.connect("127.0.0.1", port, keepalive=10)
        client.loop_start()
        self.client = client
        if not self._subscribed.wait(10):
            self.close()
            raise RuntimeError(f"not subscribed to {topic} within 10 s")

    def _message(self, _client: object, _userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def snapshot(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.messages)

    def wait_until(self, done: Callable[[list[tuple[str, bytes]]], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if done(self.snapshot()):
                return True
            time.sleep(0.05)
        return done(self.snapshot())

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
