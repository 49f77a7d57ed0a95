"""The asyncio adapter: Concentratord's event and command sockets behind ``Backend``.

Start asks for the gateway ID (which also tells which protocol generation Concentratord speaks
when ``protocol = "auto"``), then a reader task turns events into model events on a bounded
queue. Commands go one at a time over the REQ socket; a command without reply within
``command_timeout_s`` costs that downlink (INTERNAL_ERROR), never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from appliance.lorawan.identifiers import EUI64
from hal.backend import BackendError
from hal.concentratord.options import ConcentratordOptions, WireProtocol
from hal.concentratord.wire import (
    DroppedEvent,
    DropReason,
    configuration_command,
    decode_event,
    downlink_command,
    gateway_id_command,
    gateway_id_from_reply,
    refused,
    tx_ack_from_reply,
)
from hal.model import (
    BackendEvent,
    DownlinkFrame,
    DownlinkTxAck,
    GatewayConfiguration,
    GatewayConnected,
    GatewayDisconnected,
    TxAckStatus,
    UplinkFrame,
)
from hal.proto import ProtoConversionError

if TYPE_CHECKING:
    from hal.concentratord.sockets import Sockets

logger = logging.getLogger(__name__)

BACKEND_NAME: Final = "concentratord"
INSTALL_HINT: Final = "pip install 'lorawan-appliance[concentratord]'"


class ConcentratordBackend:
    """``hal.backend.Backend`` for one ChirpStack Concentratord (one gateway)."""

    def __init__(
        self,
        options: Mapping[str, Any] | ConcentratordOptions | None = None,
        *,
        wall_clock: Callable[[], int] = time.time_ns,
    ) -> None:
        if isinstance(options, ConcentratordOptions):
            self.options = options
        else:
            self.options = ConcentratordOptions.from_mapping(options or {})
        self._wall_clock = wall_clock
        self._protocol = self.options.protocol
        self._gateway_id: EUI64 | None = None
        self._sockets: Sockets | None = None
        self._reader: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[BackendEvent | None] = asyncio.Queue()
        self._drops: Counter[str] = Counter()
        self._command_errors: Counter[str] = Counter()
        self._started = False
        self._stopped = False

    @property
    def name(self) -> str:
        return BACKEND_NAME

    @property
    def gateway_id(self) -> EUI64 | None:
        """The concentrator's gateway ID, known once started."""
        return self._gateway_id

    @property
    def protocol(self) -> WireProtocol:
        """The generation in use; ``AUTO`` only until start has found out."""
        return self._protocol

    @property
    def drop_counts(self) -> Mapping[str, int]:
        """Events not delivered, by ``DropReason``."""
        return dict(self._drops)

    @property
    def command_errors(self) -> Mapping[str, int]:
        """Commands that failed: ``timeout``, ``bad_reply``, ``unencodable``, ``wrong_gateway``."""
        return dict(self._command_errors)

    async def start(self) -> None:
        if self._started or self._stopped:
            raise BackendError("concentratord can be started once")
        self._started = True
        try:
            from hal.concentratord.sockets import Sockets  # noqa: PLC0415 - pyzmq is optional
        except ImportError as error:
            raise BackendError(f"concentratord needs pyzmq ({error}): {INSTALL_HINT}") from None
        sockets = Sockets(self.options.event_url, self.options.command_url)
        try:
            gateway_id, protocol = await self._identify(sockets)
            if self._stopped:
                raise BackendError("concentratord was stopped while starting")
        except BaseException:
            await sockets.close()
            raise
        self._gateway_id, self._protocol, self._sockets = gateway_id, protocol, sockets
        logger.info(
            "concentratord: gateway %s at %s speaks %s",
            self._gateway_id,
            self.options.command_url,
            self._protocol,
        )
        # Connected goes first so the consumer knows the gateway before its first uplink; the
        # SUB socket has been buffering events since it connected.
        self._queue.put_nowait(GatewayConnected(gateway_id, BACKEND_NAME, self.options.command_url))
        self._reader = asyncio.create_task(self._read_events(), name="concentratord events")

    async def _identify(self, sockets: Sockets) -> tuple[EUI64, WireProtocol]:
        # The single-frame request goes first in auto mode: a Concentratord older than 4.5
        # answers it with an empty frame, while a newer one would wedge its REP socket on a
        # multipart request (it reads one frame and then cannot reply).
        candidates: tuple[WireProtocol, ...]
        if self.options.protocol is WireProtocol.AUTO:
            candidates = (WireProtocol.SINGLE_FRAME, WireProtocol.MULTI_FRAME)
        else:
            candidates = (self.options.protocol,)
        url = self.options.command_url
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.start_timeout_s
        while (remaining := deadline - loop.time()) > 0 and not self._stopped:
            timeout_s = min(self.options.command_timeout_s, remaining)
            for protocol in candidates:
                reply = await sockets.request(gateway_id_command(protocol), timeout_s)
                if reply is None:
                    break  # nobody answered (yet): start over until the deadline
                try:
                    gateway_id = gateway_id_from_reply(protocol, reply)
                except ProtoConversionError as error:
                    raise BackendError(
                        f"concentratord at {url} sent a bad gateway ID reply: {error}"
                    ) from None
                if gateway_id is not None:
                    return gateway_id, protocol
            else:
                tried = " and ".join(protocol.value for protocol in candidates)
                raise BackendError(
                    f"concentratord at {url} did not understand get_gateway_id ({tried}); "
                    "set protocol to 'auto' or to the generation it speaks"
                )
        if self._stopped:
            raise BackendError("concentratord was stopped while starting")
        raise BackendError(
            f"concentratord did not answer at {url} within {self.options.start_timeout_s} s; "
            "is it running?"
        )

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._sockets is not None:
            await self._sockets.close()
        if self._gateway_id is not None:
            self._queue.put_nowait(
                GatewayDisconnected(self._gateway_id, BACKEND_NAME, "backend stopped")
            )
        self._queue.put_nowait(None)  # unbounded underneath, so the end marker always fits

    def events(self) -> AsyncIterator[BackendEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[BackendEvent]:
        while (event := await self._queue.get()) is not None:
            yield event
        self._queue.put_nowait(None)  # leave the end marker for any other iterator

    async def send_downlink(self, frame: DownlinkFrame) -> DownlinkTxAck:
        if self._sockets is None or self._stopped:
            return refused(frame, TxAckStatus.INTERNAL_ERROR)
        if frame.gateway_id != self._gateway_id:
            return self._failed(frame, "wrong_gateway", f"this is gateway {self._gateway_id}")
        try:
            command = downlink_command(self._protocol, frame)
        except ProtoConversionError as error:
            return self._failed(frame, "unencodable", str(error))
        reply = await self._sockets.request(command, self.options.command_timeout_s)
        if reply is None:
            return self._failed(frame, "timeout", f"no reply in {self.options.command_timeout_s} s")
        try:
            return tx_ack_from_reply(reply, frame)
        except ProtoConversionError as error:
            return self._failed(frame, "bad_reply", str(error))

    def _failed(self, frame: DownlinkFrame, error: str, detail: str) -> DownlinkTxAck:
        self._command_errors[error] += 1
        logger.warning(
            "concentratord: downlink %d to %s failed (%s): %s",
            frame.downlink_id,
            frame.gateway_id,
            error,
            detail,
        )
        return refused(frame, TxAckStatus.INTERNAL_ERROR)

    async def configure(self, configuration: GatewayConfiguration) -> None:
        """Send a channel plan; Concentratord restarts its radio with it."""
        if self._sockets is None or self._stopped:
            raise BackendError("concentratord is not running")
        if configuration.gateway_id != self._gateway_id:
            raise BackendError(
                f"concentratord serves gateway {self._gateway_id}, not {configuration.gateway_id}"
            )
        try:
            command = configuration_command(self._protocol, configuration)
        except ProtoConversionError as error:
            raise BackendError(f"concentratord: configuration cannot be sent: {error}") from None
        if await self._sockets.request(command, self.options.command_timeout_s) is None:
            self._command_errors["timeout"] += 1
            raise BackendError(
                f"concentratord did not acknowledge configuration {configuration.version!r} "
                f"within {self.options.command_timeout_s} s"
            )

    async def _read_events(self) -> None:
        assert self._sockets is not None
        while True:
            try:
                frames = await self._sockets.receive_event()
            except Exception:  # only closing the socket should end it, and stop() cancels first
                logger.exception("concentratord: event socket failed; no more events")
                return
            try:
                self._accept(frames)
            except Exception:  # decoding raises nothing by design; a bug costs one event
                self._drops[DropReason.INTERNAL_ERROR] += 1
                logger.exception("concentratord: event handling failed")

    def _accept(self, frames: list[bytes]) -> None:
        protocol, result = decode_event(frames)
        if isinstance(result, DroppedEvent):
            self._drops[result.reason] += 1
            logger.debug("concentratord: event dropped (%s): %s", result.reason, result.detail)
            return
        if protocol is not None and protocol is not self._protocol:
            if self.options.protocol is not WireProtocol.AUTO:
                self._drops[DropReason.WRONG_PROTOCOL] += 1
                return
            # Concentratord was replaced by another generation while we ran: follow it.
            logger.warning("concentratord: now speaks %s (was %s)", protocol, self._protocol)
            self._protocol = protocol
        if self._queue.qsize() >= self.options.max_queue:
            self._drops[DropReason.QUEUE_FULL] += 1
            return
        if isinstance(result, UplinkFrame) and result.rx_info.ns_time_ns is None:
            # Concentratord leaves ns_time to the network server: this is when it arrived.
            rx_info = replace(result.rx_info, ns_time_ns=self._wall_clock())
            result = replace(result, rx_info=rx_info)
        self._queue.put_nowait(result)
