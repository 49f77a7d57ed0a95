"""Who is calling: ``Authorization: Bearer <token>`` resolved to a principal, and the checks
the handlers apply (read, write, admin, one application)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from appliance.api.context import APIContext, context
from appliance.api.errors import APIError
from appliance.app.auth import token_hash
from appliance.app.model import Scope


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: uuid.UUID
    scope: Scope
    application_id: uuid.UUID | None

    @property
    def is_admin(self) -> bool:
        return self.scope is Scope.ADMIN

    def may_write(self) -> bool:
        return self.scope is not Scope.READ_ONLY

    def sees_application(self, app_id: uuid.UUID) -> bool:
        return self.scope is not Scope.APPLICATION or self.application_id == app_id


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query_params.get("token") if request.url.path.startswith("/api/stream") else None


def resolve(ctx: APIContext, token: str | None) -> Principal:
    if token is None:
        raise APIError(401, "missing API token (Authorization: Bearer <token>)")
    key = ctx.repository.api_key_by_hash(token_hash(token))
    if key is None:
        raise APIError(401, "API token refused")
    if key.expires_at is not None and key.expires_at <= ctx.now():
        raise APIError(401, "session expired; log in again")
    return Principal(key.id, key.scope, key.application_id)


def principal(request: Request, ctx: Annotated[APIContext, Depends(context)]) -> Principal:
    found = resolve(ctx, bearer_token(request))
    if request.method not in {"GET", "HEAD", "OPTIONS"} and not found.may_write():
        raise APIError(403, "this API token is read-only")
    return found


def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if not who.is_admin and who.scope is not Scope.READ_ONLY:
        raise APIError(403, "an admin API token is needed")
    return who


def require_application(who: Principal, app_id: uuid.UUID) -> None:
    if not who.sees_application(app_id):
        # 404, not 403: a key of one application learns nothing about the others.
        raise APIError(404, f"no application {app_id}")


Caller = Annotated[Principal, Depends(principal)]
Admin = Annotated[Principal, Depends(admin)]
Ctx = Annotated[APIContext, Depends(context)]
