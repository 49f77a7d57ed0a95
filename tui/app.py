"""The console application: the screens, the keys that reach them, and the two loops that keep
it current (the status poll and the live stream), both retrying for as long as it runs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.signal import Signal

from tui.client import ApplianceAPI, ClientError, NotOfferedError, RefusedError
from tui.client.metrics import Metrics, parse_metrics
from tui.feed import LiveFeed
from tui.navigation import SCREENS
from tui.screens.applications import ApplicationsScreen
from tui.screens.config import ConfigScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.device_detail import DeviceDetailScreen
from tui.screens.devices import DevicesScreen
from tui.screens.frames import FramesScreen
from tui.screens.gateways import GatewaysScreen
from tui.screens.help import HelpScreen
from tui.state.directory import Directory
from tui.state.frame_log import LogItem
from tui.state.traffic import UplinkRate
from tui.target import NotReadyError, TargetError

Clock = Callable[[], datetime]
Connector = Callable[[], ApplianceAPI]

_RETRY_LIMIT_S = 30.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Connection:
    """Where the console stands with the appliance; ``state`` is one of the words below."""

    state: str  # connecting, connected, unreachable, refused, waiting
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "connected"


class ConsoleApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "LoRaWAN appliance"
    MODES: ClassVar[dict[str, Any]] = {
        "dashboard": DashboardScreen,
        "frames": FramesScreen,
        "devices": DevicesScreen,
        "applications": ApplicationsScreen,
        "gateways": GatewaysScreen,
        "config": ConfigScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"app.switch_mode('{mode}')", f"{label} screen", show=False)
            for mode, key, label in SCREENS
        ),
        Binding("f1,question_mark", "app.help", "Help", key_display="?"),
        Binding("ctrl+q", "app.quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        connect: Connector,
        *,
        target_name: str,
        clock: Clock = utc_now,
        poll_seconds: float = 2.0,
        flush_seconds: float = 0.25,
        log_capacity: int = 5_000,
        refresh_seconds: float = 5.0,
        freeze_startup: bool = False,
    ) -> None:
        super().__init__()
        self._connect = connect
        self.target_name = target_name
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.flush_seconds = flush_seconds
        self.refresh_seconds = refresh_seconds
        self.freeze_startup = freeze_startup
        self.api: ApplianceAPI | None = None
        self.connection = Connection("connecting", f"connecting to {target_name}")
        self.stream_state = "waiting for the appliance"
        self.status: dict[str, Any] = {}
        self.metrics = Metrics()
        self.uplink_rate = UplinkRate()
        self.feed = LiveFeed(log_capacity=log_capacity)
        self._polls = 0
        # Published after every status poll (with the Connection) and every live batch.
        self.status_signal: Signal[Connection] = Signal(self, "status")
        self.live_signal: Signal[list[LogItem]] = Signal(self, "live")

    # Start-up
    def on_mount(self) -> None:
        self.switch_mode("dashboard")
        self.supervise()
        self.follow_stream()
        self.set_interval(self.flush_seconds, self.flush_live)
        if self.freeze_startup:
            self.call_after_refresh(self._freeze)

    def _freeze(self) -> None:
        """Keep the objects of start-up (Textual's, the modules') out of garbage collection.

        A full collection walks every tracked object; with the start-up ones frozen it walks
        only what came later, which keeps its pause short while the live log runs at
        hundreds of items a second (bench/console.py). For the process of one console only:
        tests make many apps in one process and leave it off."""
        gc.collect()
        gc.freeze()

    async def on_unmount(self) -> None:
        if self.api is not None:
            await self.api.close()

    # The status poll: also the connection's heartbeat.
    def _ensure_api(self) -> ApplianceAPI:
        if self.api is None:
            self.api = self._connect()
        return self.api

    async def poll_once(self) -> None:
        try:
            api = self._ensure_api()
            status = await api.system_status()
            metrics_text = await api.metrics()
        except NotReadyError as error:
            self.connection = Connection("waiting", str(error))
        except TargetError as error:
            self.connection = Connection("refused", str(error))
        except RefusedError as error:
            self.connection = Connection("refused", str(error))
        except ClientError as error:
            self.connection = Connection("unreachable", str(error))
            await self._forget_api()
        except Exception as error:  # an answer the console cannot read: say so, keep going
            self.connection = Connection("unreachable", f"unexpected answer: {error!r}"[:200])
            await self._forget_api()
        else:
            self.status = status
            self.metrics = parse_metrics(metrics_text)
            uplinks = status.get("uplinks")
            if isinstance(uplinks, int):
                self.uplink_rate.observe(uplinks, self.clock())
            self.connection = Connection("connected", f"connected to {api.url}")
            await self._refresh_device_names(api)
        self.status_signal.publish(self.connection)

    async def _refresh_device_names(self, api: ApplianceAPI) -> None:
        """Names for the live log's rows; read at the first poll and then every minute."""
        self._polls += 1
        if self.directory.names and self._polls % max(int(60 / self.poll_seconds), 1):
            return
        try:
            devices = await api.list_devices()
        except ClientError:
            return  # the next poll says what is wrong
        self.directory.names.update(
            {d["devEui"]: d.get("name", "") for d in devices if "devEui" in d}
        )

    @property
    def directory(self) -> Directory:
        return self.feed.directory

    async def _forget_api(self) -> None:
        """Drop the client so the next attempt reads the local files again (new port)."""
        api, self.api = self.api, None
        if api is not None:
            await api.close()

    @work(exclusive=True, group="supervise")
    async def supervise(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self.poll_seconds)

    # The live stream, reconnected with a growing pause.
    @work(exclusive=True, group="stream")
    async def follow_stream(self) -> None:
        pause = 1.0
        while True:
            api = self.api
            if api is None or not self.connection.ok:
                self.stream_state = "waiting for the appliance"
                await asyncio.sleep(min(self.poll_seconds, 1.0))
                continue
            self.stream_state = "connecting"
            try:
                # aclosing: a cancelled console closes its WebSocket now, not at some later
                # garbage collection.
                async with contextlib.aclosing(api.stream()) as items:
                    async for item in items:
                        if self.stream_state != "live":
                            self.stream_state = "live"
                            pause = 1.0
                        self.feed.push(item)
                self.stream_state = "closed by the appliance; reconnecting"
            except NotOfferedError as error:
                self.stream_state = str(error)
                pause = _RETRY_LIMIT_S
            except ClientError as error:
                self.stream_state = f"{error}; reconnecting"
            except Exception as error:  # never end the loop: the stream must come back
                self.stream_state = f"stream failed ({error!r}); reconnecting"[:200]
            await asyncio.sleep(pause)
            pause = min(pause * 2, _RETRY_LIMIT_S)

    def flush_live(self) -> None:
        if self.feed.pending:
            self.live_signal.publish(self.feed.take_batch())

    # Actions
    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        sections: list[tuple[str, list[Any]]] = [
            (
                "Everywhere",
                [
                    Binding("ctrl+p", "", "Command palette: every action by name"),
                    Binding("tab", "", "Next field or table"),
                    *self.BINDINGS,
                ],
            )
        ]
        for mode, _, label in SCREENS:
            sections.append((label, list(getattr(self.MODES[mode], "BINDINGS", []))))
            if mode == "devices":
                sections.append(("Device detail", list(DeviceDetailScreen.BINDINGS)))
        self.push_screen(HelpScreen(sections))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every screen and every key-bound action of the current screen, in the palette."""
        for mode, key, label in SCREENS:
            yield SystemCommand(
                f"Go to {label}", f"show the {label} screen (key {key})", _switch(self, mode)
            )
        seen: set[str] = set()
        for binding in getattr(screen, "BINDINGS", []):
            if isinstance(binding, Binding) and binding.description and binding.action not in seen:
                seen.add(binding.action)
                yield SystemCommand(
                    binding.description,
                    f"{binding.tooltip or binding.description} (key {binding.key})",
                    _run(screen, binding.action),
                )
        yield SystemCommand("Help", "the key bindings of every screen", self.action_help)
        yield from super().get_system_commands(screen)


def _switch(app: App[Any], mode: str) -> Callable[[], None]:
    def switch() -> None:
        app.switch_mode(mode)

    return switch


def _run(screen: Screen[Any], action: str) -> Callable[[], Any]:
    async def run() -> None:
        await screen.run_action(action)

    return run
