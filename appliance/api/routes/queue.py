"""A device's downlink queue: enqueue (raw bytes or an object through the profile's codec),
list, flush."""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import Field

from appliance.api.errors import APIError
from appliance.api.routes.devices import load_device
from appliance.api.schemas import Body
from appliance.api.security import Caller, Ctx
from appliance.ns.downlink.data import QueueItem

router = APIRouter(prefix="/api/devices", tags=["device queue"])

# The largest FRMPayload of any region and data rate; a longer item could never be sent.
MAX_PAYLOAD = 242
MAX_QUEUE = 64  # per device: a queue is for commands, not bulk transfer


class QueueIn(Body):
    id: uuid.UUID | None = None
    f_port: Annotated[int, Field(ge=1, le=223)]
    confirmed: bool = False
    data: Annotated[str, Field(max_length=4 * MAX_PAYLOAD)] | None = None  # base64
    object: dict[str, Any] | None = None
    expires_at: datetime | None = None


class QueueOut(Body):
    id: uuid.UUID
    f_port: int
    confirmed: bool
    data: str
    pending: bool  # sent, waiting for the device's acknowledgement
    f_cnt_down: int | None
    expires_at: datetime | None = None


def _decode_base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise APIError(422, "data: not valid base64") from None


@router.get("/{dev_eui}/queue")
async def list_queue(dev_eui: str, ctx: Ctx, who: Caller) -> list[QueueOut]:
    device = await load_device(ctx, who, dev_eui)
    entries = await ctx.store.queue_entries(device.dev_eui)
    return [
        QueueOut(
            id=e.item.id,
            f_port=e.item.f_port,
            confirmed=e.item.confirmed,
            data=base64.b64encode(e.item.data).decode(),
            pending=e.f_cnt_down is not None,
            f_cnt_down=e.f_cnt_down,
        )
        for e in entries
    ]


@router.post("/{dev_eui}/queue", status_code=201)
async def enqueue(dev_eui: str, body: QueueIn, ctx: Ctx, who: Caller) -> QueueOut:
    device = await load_device(ctx, who, dev_eui)
    if (body.data is None) == (body.object is None):
        raise APIError(422, "give either data (base64) or object (encoded by the codec)")
    f_port = body.f_port
    if body.data is not None:
        data = _decode_base64(body.data)
    else:
        encode = ctx.services.get("encode_downlink")
        if encode is None:
            raise APIError(503, "the payload codecs are not running")
        assert body.object is not None
        data, f_port = await encode(device, f_port, body.object)
    if len(data) > MAX_PAYLOAD:
        raise APIError(422, f"data: {len(data)} bytes is more than any data rate carries")
    if len(await ctx.store.queue_entries(device.dev_eui)) >= MAX_QUEUE:
        raise APIError(409, f"the queue of {device.dev_eui} is full ({MAX_QUEUE} items)")
    expires_ns = None
    if body.expires_at is not None:
        if body.expires_at.tzinfo is None:
            raise APIError(422, "expiresAt: needs a time zone (e.g. Z)")
        remaining = (body.expires_at - ctx.now()).total_seconds()
        if remaining <= 0:
            raise APIError(422, "expiresAt: already in the past")
        # The queue runs on the monotonic clock: a wall-clock jump must not expire items.
        expires_ns = time.monotonic_ns() + int(remaining * 1e9)
    item = QueueItem(body.id or uuid.uuid4(), f_port, data, body.confirmed)
    await ctx.store.enqueue(device.dev_eui, item, expires_at_ns=expires_ns)
    return QueueOut(
        id=item.id,
        f_port=item.f_port,
        confirmed=item.confirmed,
        data=base64.b64encode(data).decode(),
        pending=False,
        f_cnt_down=None,
        expires_at=body.expires_at,
    )


@router.delete("/{dev_eui}/queue", status_code=204)
async def flush_queue(dev_eui: str, ctx: Ctx, who: Caller) -> Response:
    device = await load_device(ctx, who, dev_eui)
    await ctx.store.flush_queue(device.dev_eui)
    return Response(status_code=204)
