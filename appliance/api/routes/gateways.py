"""Gateways: external packet forwarders and local concentrators, with what they last reported."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import Field

from appliance.api.errors import APIError
from appliance.api.schemas import Body, Description, EUIText, Limit, Name, Offset, Page, Tags
from appliance.api.security import Caller, Ctx
from appliance.app.model import Gateway, Location
from appliance.lorawan.identifiers import EUI64

router = APIRouter(prefix="/api/gateways", tags=["gateways"])


class LocationBody(Body):
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]
    altitude: Annotated[float, Field(ge=-1000, le=100_000)] = 0.0


class GatewayIn(Body):
    name: Name
    description: Description = ""
    location: LocationBody | None = None
    tags: Tags = Field(default_factory=dict)


class GatewayCreate(GatewayIn):
    gateway_id: EUIText


class GatewayOut(Body):
    gateway_id: str
    name: str
    description: str
    location: LocationBody | None
    tags: dict[str, str]
    created_at: datetime | None
    updated_at: datetime | None
    last_seen_at: datetime | None
    stats: dict[str, Any]
    connected_through: str | None = None


def _out(gateway: Gateway, routes: dict[str, str]) -> GatewayOut:
    loc = gateway.location
    return GatewayOut(
        gateway_id=str(gateway.gateway_id),
        name=gateway.name,
        description=gateway.description,
        location=None
        if loc is None
        else LocationBody(latitude=loc.latitude, longitude=loc.longitude, altitude=loc.altitude),
        tags=gateway.tags,
        created_at=gateway.created_at,
        updated_at=gateway.updated_at,
        last_seen_at=gateway.last_seen_at,
        stats=gateway.stats,
        connected_through=routes.get(str(gateway.gateway_id)),
    )


def _routes(ctx: Ctx) -> dict[str, str]:
    routes = ctx.services.get("gateway_routes")
    return {} if routes is None else dict(routes())


def _location(body: GatewayIn) -> Location | None:
    loc = body.location
    return None if loc is None else Location(loc.latitude, loc.longitude, loc.altitude)


def _gateway_id(text: str) -> EUI64:
    try:
        return EUI64(text)
    except (ValueError, TypeError):
        raise APIError(422, f"gatewayId: {text[:40]!r} is not an EUI-64") from None


def _admin_only(who: Caller) -> None:
    if not who.is_admin:
        raise APIError(403, "an admin API token is needed to manage gateways")


@router.get("")
async def list_gateways(
    ctx: Ctx, _: Caller, limit: Limit = 100, offset: Offset = 0
) -> Page[GatewayOut]:
    gateways, total = ctx.repository.gateways(limit=limit, offset=offset)
    routes = _routes(ctx)
    return Page(total_count=total, result=[_out(g, routes) for g in gateways])


@router.post("", status_code=201)
async def create_gateway(body: GatewayCreate, ctx: Ctx, who: Caller) -> GatewayOut:
    _admin_only(who)
    gateway = Gateway(
        EUI64(body.gateway_id), body.name, body.description, _location(body), dict(body.tags)
    )
    return _out(ctx.repository.create_gateway(gateway, ctx.now()), _routes(ctx))


@router.get("/{gateway_id}")
async def get_gateway(gateway_id: str, ctx: Ctx, _: Caller) -> GatewayOut:
    return _out(ctx.repository.gateway(_gateway_id(gateway_id)), _routes(ctx))


@router.put("/{gateway_id}")
async def update_gateway(gateway_id: str, body: GatewayIn, ctx: Ctx, who: Caller) -> GatewayOut:
    _admin_only(who)
    gateway = Gateway(
        _gateway_id(gateway_id), body.name, body.description, _location(body), dict(body.tags)
    )
    return _out(ctx.repository.update_gateway(gateway, ctx.now()), _routes(ctx))


@router.delete("/{gateway_id}", status_code=204)
async def delete_gateway(gateway_id: str, ctx: Ctx, who: Caller) -> Response:
    _admin_only(who)
    ctx.repository.delete_gateway(_gateway_id(gateway_id))
    return Response(status_code=204)
