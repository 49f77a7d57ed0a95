"""Applications and their integrations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from appliance.api.errors import APIError
from appliance.api.routes.config import masked
from appliance.api.schemas import Body, Description, Limit, Name, Offset, Page, Tags
from appliance.api.security import Caller, Ctx, Principal, require_application
from appliance.app.model import Application, Integration, Scope

router = APIRouter(prefix="/api/applications", tags=["applications"])

IntegrationKind = Literal["mqtt", "http", "influxdb"]


class ApplicationIn(Body):
    name: Name
    description: Description = ""
    tags: Tags = Field(default_factory=dict)


class ApplicationOut(Body):
    id: uuid.UUID
    name: str
    description: str
    tags: dict[str, str]
    created_at: datetime | None
    updated_at: datetime | None


class IntegrationIn(Body):
    config: dict[str, Any]


class IntegrationOut(Body):
    application_id: uuid.UUID
    kind: str
    config: dict[str, Any]
    created_at: datetime | None
    updated_at: datetime | None


def _out(app: Application) -> ApplicationOut:
    return ApplicationOut(
        id=app.id,
        name=app.name,
        description=app.description,
        tags=app.tags,
        created_at=app.created_at,
        updated_at=app.updated_at,
    )


@router.get("")
async def list_applications(
    ctx: Ctx, who: Caller, search: str = "", limit: Limit = 100, offset: Offset = 0
) -> Page[ApplicationOut]:
    if who.scope is Scope.APPLICATION:
        assert who.application_id is not None
        app = ctx.repository.application(who.application_id)
        return Page(total_count=1, result=[_out(app)])
    apps, total = ctx.repository.applications(search=search[:100], limit=limit, offset=offset)
    return Page(total_count=total, result=[_out(a) for a in apps])


@router.post("", status_code=201)
async def create_application(body: ApplicationIn, ctx: Ctx, who: Caller) -> ApplicationOut:
    if not who.is_admin:
        raise APIError(403, "an admin API token is needed to create applications")
    app = Application(uuid.uuid4(), body.name, body.description, dict(body.tags))
    return _out(ctx.repository.create_application(app, ctx.now()))


@router.get("/{app_id}")
async def get_application(app_id: uuid.UUID, ctx: Ctx, who: Caller) -> ApplicationOut:
    require_application(who, app_id)
    return _out(ctx.repository.application(app_id))


@router.put("/{app_id}")
async def update_application(
    app_id: uuid.UUID, body: ApplicationIn, ctx: Ctx, who: Caller
) -> ApplicationOut:
    require_application(who, app_id)
    app = Application(app_id, body.name, body.description, dict(body.tags))
    return _out(ctx.repository.update_application(app, ctx.now()))


@router.delete("/{app_id}", status_code=204)
async def delete_application(app_id: uuid.UUID, ctx: Ctx, who: Caller) -> Response:
    if not who.is_admin:
        raise APIError(403, "an admin API token is needed to delete applications")
    _, count = await ctx.store.list_devices(application_id=app_id, limit=1)
    ctx.repository.delete_application(app_id, count)
    return Response(status_code=204)


def _integration_out(integration: Integration, who: Principal) -> IntegrationOut:
    # Passwords, tokens and keys only for tokens that may also change them.
    config = integration.config if who.may_write() else masked(integration.config)
    return IntegrationOut(
        application_id=integration.application_id,
        kind=integration.kind,
        config=config,
        created_at=integration.created_at,
        updated_at=integration.updated_at,
    )


@router.get("/{app_id}/integrations")
async def list_integrations(app_id: uuid.UUID, ctx: Ctx, who: Caller) -> list[IntegrationOut]:
    require_application(who, app_id)
    ctx.repository.application(app_id)
    return [_integration_out(i, who) for i in ctx.repository.integrations(app_id)]


@router.get("/{app_id}/integrations/{kind}")
async def get_integration(
    app_id: uuid.UUID, kind: IntegrationKind, ctx: Ctx, who: Caller
) -> IntegrationOut:
    require_application(who, app_id)
    return _integration_out(ctx.repository.integration(app_id, kind), who)


@router.put("/{app_id}/integrations/{kind}")
async def put_integration(
    app_id: uuid.UUID, kind: IntegrationKind, body: IntegrationIn, ctx: Ctx, who: Caller
) -> IntegrationOut:
    require_application(who, app_id)
    validate = ctx.services.get("validate_integration")
    config = dict(body.config)
    if validate is not None:
        try:
            config = validate(kind, config)
        except ValueError as exc:
            raise APIError(400, f"{kind} integration: {exc}") from None
    stored = ctx.repository.put_integration(Integration(app_id, kind, config), ctx.now())
    changed = ctx.services.get("integrations_changed")
    if changed is not None:
        await changed(app_id)
    return _integration_out(stored, who)


@router.delete("/{app_id}/integrations/{kind}", status_code=204)
async def delete_integration(
    app_id: uuid.UUID, kind: IntegrationKind, ctx: Ctx, who: Caller
) -> Response:
    require_application(who, app_id)
    ctx.repository.delete_integration(app_id, kind)
    changed = ctx.services.get("integrations_changed")
    if changed is not None:
        await changed(app_id)
    return Response(status_code=204)
