"""The live stream (WebSocket and server-sent events) and the recent event and frame logs.

Stream messages are JSON objects, one per WebSocket text frame or SSE ``data:`` line::

    {"type": "event", "kind": "up", "devEui": ..., "applicationId": ..., "time": ..., "body": {...}}
    {"type": "frame", "direction": "up"|"down", "gatewayId": ..., "devEui": ..., "devAddr": ...,
     "fType": ..., "time": ..., "body": {...}}
    {"type": "missed", "count": N}     # the client fell behind; N items were skipped

``body`` is the ChirpStack v4 JSON of the event or frame log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from chirpstack_api import common
from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import Field

from appliance.api.context import APIContext, context
from appliance.api.errors import APIError
from appliance.api.routes.devices import load_device
from appliance.api.security import Caller, Ctx, Principal, resolve
from appliance.app.events import (
    EventBroker,
    EventKind,
    EventLog,
    EventRecord,
    FrameKind,
    FrameRecord,
    Missed,
    StreamFilter,
    SubscriberLimitError,
)
from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64

router = APIRouter(tags=["live stream and logs"])
_KINDS: dict[str, EventKind | FrameKind] = {k.value: k for k in EventKind} | {
    k.value: k for k in FrameKind
}
_KINDS["frames"] = FrameKind.UPLINK  # shorthand expanded below
KEEPALIVE_S = 15.0


def _iso(time_ns: int) -> str:
    return datetime.fromtimestamp(time_ns / 1e9, UTC).isoformat().replace("+00:00", "Z")


def stream_message(item: EventRecord | FrameRecord | Missed) -> str:
    if isinstance(item, Missed):
        return json.dumps({"type": "missed", "count": item.count})
    head: dict[str, str | None]
    if isinstance(item, EventRecord):
        head = {
            "type": "event",
            "kind": item.kind.value,
            "devEui": str(item.dev_eui),
            "applicationId": str(item.application_id),
            "time": _iso(item.time_ns),
        }
    else:
        head = {
            "type": "frame",
            "direction": "up" if item.kind is FrameKind.UPLINK else "down",
            "gatewayId": str(item.gateway_id),
            "devEui": None if item.dev_eui is None else str(item.dev_eui),
            "devAddr": None if item.dev_addr is None else str(item.dev_addr),
            "fType": common.FType.Name(item.message.f_type),
            "time": _iso(item.time_ns),
            "txStatus": None if item.tx_status is None else item.tx_status.name,
        }
    # The body is already JSON text: splice it in rather than parse and print it again.
    return json.dumps(head)[:-1] + ', "body": ' + item.json() + "}"


def _filter(
    who: Principal,
    *,
    dev_eui: str | None,
    application_id: str | None,
    gateway_id: str | None,
    kinds: str | None,
) -> StreamFilter:
    try:
        device = None if dev_eui is None else EUI64(dev_eui)
        gateway = None if gateway_id is None else EUI64(gateway_id)
    except InvalidValueError as error:
        raise APIError(422, f"devEui/gatewayId: {error}") from None
    try:
        app = None if application_id is None else uuid.UUID(application_id)
    except ValueError:
        raise APIError(422, "applicationId: not a UUID") from None
    if who.application_id is not None:
        if app is not None and app != who.application_id:
            raise APIError(404, f"no application {app}")
        app = who.application_id
    chosen: set[EventKind | FrameKind] | None = None
    if kinds:
        chosen = set()
        for raw in kinds.split(","):
            name = raw.strip()
            if name == "frames":
                chosen |= {FrameKind.UPLINK, FrameKind.DOWNLINK}
            elif name in _KINDS:
                chosen.add(_KINDS[name])
            else:
                known = ", ".join([*(k.value for k in EventKind), "frames"])
                raise APIError(422, f"kinds: unknown kind {name[:40]!r} (known: {known})")
    return StreamFilter.of(dev_eui=device, application_id=app, gateway_id=gateway, kinds=chosen)


def _broker(ctx: APIContext) -> EventBroker:
    broker = ctx.services.get("broker")
    if not isinstance(broker, EventBroker):
        raise APIError(503, "the live stream is not running")
    return broker


def _event_log(ctx: APIContext) -> EventLog:
    event_log = ctx.services.get("event_log")
    if not isinstance(event_log, EventLog):
        raise APIError(503, "the event log is not running")
    return event_log


@router.websocket("/api/stream")
async def stream_socket(
    websocket: WebSocket,
    dev_eui: Annotated[str | None, Query(alias="devEui", max_length=16)] = None,
    application_id: Annotated[str | None, Query(alias="applicationId", max_length=36)] = None,
    gateway_id: Annotated[str | None, Query(alias="gatewayId", max_length=16)] = None,
    kinds: Annotated[str | None, Query(max_length=200)] = None,
) -> None:
    ctx: APIContext = websocket.app.state.context
    header = websocket.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    token = given.strip() if scheme.lower() == "bearer" else websocket.query_params.get("token")
    try:
        who = resolve(ctx, token or None)
        stream_filter = _filter(
            who,
            dev_eui=dev_eui,
            application_id=application_id,
            gateway_id=gateway_id,
            kinds=kinds,
        )
        subscription = _broker(ctx).subscribe(stream_filter)
    except APIError as error:
        # Accept first: a refusal before the handshake reaches the client as a bare HTTP 403,
        # while a close frame carries the reason (4000 + the HTTP status it stands for).
        await websocket.accept()
        await websocket.close(code=4000 + error.status, reason=error.message[:120])
        return
    except SubscriberLimitError as error:
        await websocket.accept()
        await websocket.close(code=1013, reason=str(error)[:120])
        return
    await websocket.accept()
    async with subscription:
        receiver = asyncio.create_task(_drain_client(websocket))
        iterator = aiter(subscription)
        waiting: asyncio.Task[Any] | None = None
        try:
            while not receiver.done():
                # What is queued goes out at once; only an empty queue needs a waiting task.
                ready = subscription.get_nowait()
                if ready is not None:
                    await websocket.send_text(stream_message(ready))
                    continue
                # Wait for the next item or the client leaving, whichever comes first: a quiet
                # stream must not keep a closed connection's handler alive.
                waiting = asyncio.ensure_future(anext(iterator))
                await asyncio.wait({waiting, receiver}, return_when=asyncio.FIRST_COMPLETED)
                if not waiting.done():
                    break
                try:
                    item = waiting.result()
                except StopAsyncIteration:
                    break
                waiting = None
                await websocket.send_text(stream_message(item))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            for task in (waiting, receiver):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(
                        asyncio.CancelledError,
                        WebSocketDisconnect,
                        RuntimeError,
                        StopAsyncIteration,
                    ):
                        await task


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, so a close is noticed."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()


@router.get("/api/stream/sse")
async def stream_sse(
    request: Request,
    who: Caller,
    *,
    dev_eui: Annotated[str | None, Query(alias="devEui", max_length=16)] = None,
    application_id: Annotated[str | None, Query(alias="applicationId", max_length=36)] = None,
    gateway_id: Annotated[str | None, Query(alias="gatewayId", max_length=16)] = None,
    kinds: Annotated[str | None, Query(max_length=200)] = None,
) -> StreamingResponse:
    ctx = context(request)
    stream_filter = _filter(
        who, dev_eui=dev_eui, application_id=application_id, gateway_id=gateway_id, kinds=kinds
    )
    try:
        subscription = _broker(ctx).subscribe(stream_filter)
    except SubscriberLimitError as error:
        raise APIError(503, str(error)) from None

    async def lines() -> AsyncIterator[str]:
        async with subscription:
            yield ": connected\n\n"
            iterator = aiter(subscription)
            while True:
                try:
                    item = await asyncio.wait_for(anext(iterator), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                except StopAsyncIteration:
                    return
                yield f"data: {stream_message(item)}\n\n"

    return StreamingResponse(
        lines(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


def _json_page(items: list[Any], next_before: int | None) -> dict[str, Any]:
    return {"result": [json.loads(stream_message(i)) for i in items], "nextBefore": next_before}


Limit = Annotated[int, Field(ge=1, le=1000)]


@router.get("/api/devices/{dev_eui}/events")
async def device_events(
    dev_eui: str,
    ctx: Ctx,
    who: Caller,
    limit: Limit = 100,
    before: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> dict[str, Any]:
    device = await load_device(ctx, who, dev_eui)
    page = _event_log(ctx).events(dev_eui=device.dev_eui, before=before, limit=limit)
    return _json_page(list(page.items), page.next_cursor)


@router.get("/api/devices/{dev_eui}/frames")
async def device_frames(
    dev_eui: str,
    ctx: Ctx,
    who: Caller,
    limit: Limit = 100,
    before: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> dict[str, Any]:
    device = await load_device(ctx, who, dev_eui)
    page = _event_log(ctx).frames(dev_eui=device.dev_eui, before=before, limit=limit)
    return _json_page(list(page.items), page.next_cursor)


@router.get("/api/frames")
async def recent_frames(
    ctx: Ctx,
    who: Caller,
    gateway_id: Annotated[str | None, Query(alias="gatewayId", max_length=16)] = None,
    limit: Limit = 100,
    before: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> dict[str, Any]:
    if not who.is_admin and who.application_id is not None:
        raise APIError(403, "an admin or read-only API token is needed for all frames")
    try:
        gateway = None if gateway_id is None else EUI64(gateway_id)
    except InvalidValueError as error:
        raise APIError(422, f"gatewayId: {error}") from None
    page = _event_log(ctx).frames(gateway_id=gateway, before=before, limit=limit)
    return _json_page(list(page.items), page.next_cursor)
