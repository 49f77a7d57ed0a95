"""Users (admin or read-only), password login for a session token, and API keys."""

from __future__ import annotations

import asyncio
import functools
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from appliance.api.errors import APIError, error_response
from appliance.api.schemas import Body, Name
from appliance.api.security import Caller, Ctx
from appliance.app.auth import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)
from appliance.app.model import APIKey, Scope, User

router = APIRouter(tags=["users and API keys"])

Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)]


class UserIn(Body):
    email: Email
    password: Password
    is_admin: bool = False


class UserOut(Body):
    id: uuid.UUID
    email: str
    is_admin: bool
    created_at: datetime | None


class LoginIn(Body):
    email: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(max_length=1024)]


class LoginOut(Body):
    token: str
    expires_at: datetime


class KeyIn(Body):
    name: Name
    scope: Literal["admin", "read-only", "application"] = "admin"
    application_id: uuid.UUID | None = None


class KeyOut(Body):
    id: uuid.UUID
    name: str
    scope: str
    application_id: uuid.UUID | None
    created_at: datetime | None


class KeyCreated(KeyOut):
    token: str  # shown once


def _admin_only(who: Caller) -> None:
    if not who.is_admin:
        raise APIError(403, "an admin API token is needed")


def _user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, is_admin=user.is_admin, created_at=user.created_at)


@router.get("/api/users")
async def list_users(ctx: Ctx, who: Caller) -> list[UserOut]:
    if who.scope is Scope.APPLICATION:
        raise APIError(403, "an admin or read-only API token is needed")
    return [_user_out(u) for u in ctx.repository.users()]


@router.post("/api/users", status_code=201)
async def create_user(body: UserIn, ctx: Ctx, who: Caller) -> UserOut:
    _admin_only(who)
    # scrypt takes tens of milliseconds and 16 MiB: off the event loop.
    hashed = await asyncio.to_thread(hash_password, body.password)
    user = User(uuid.uuid4(), body.email, body.is_admin)
    return _user_out(ctx.repository.create_user(user, hashed, ctx.now()))


@router.delete("/api/users/{user_id}", status_code=204)
async def delete_user(user_id: uuid.UUID, ctx: Ctx, who: Caller) -> Response:
    _admin_only(who)
    ctx.repository.delete_user(user_id)
    return Response(status_code=204)


@router.post("/api/login", response_model=None)
async def login(body: LoginIn, ctx: Ctx) -> LoginOut | JSONResponse:
    now_s = ctx.monotonic()
    wait = ctx.limiter.retry_after(body.email, now_s)
    if wait > 0:
        return error_response(
            429,
            f"too many failed logins; try again in {int(wait) + 1} s",
            {"Retry-After": str(int(wait) + 1)},
        )
    found = ctx.repository.user_by_email(body.email)
    # Verify against a dummy hash for unknown users too, so timing does not reveal them.
    stored = found[1] if found is not None else _dummy_hash()
    ok = await asyncio.to_thread(verify_password, body.password, stored)
    if found is None or not ok:
        ctx.limiter.failed(body.email, now_s)
        raise APIError(401, "wrong e-mail or password")
    ctx.limiter.succeeded(body.email)
    user = found[0]
    now = ctx.now()
    expires = now + timedelta(seconds=ctx.session_lifetime_s)
    token = new_token()
    scope = Scope.ADMIN if user.is_admin else Scope.READ_ONLY
    ctx.repository.delete_expired_keys(now)
    key = APIKey(uuid.uuid4(), f"login {user.email}", scope, None, user.id, expires)
    ctx.repository.create_api_key(key, token_hash(token), now)
    return LoginOut(token=token, expires_at=expires)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(uuid.uuid4().hex)


def _key_out(key: APIKey) -> KeyOut:
    return KeyOut(
        id=key.id,
        name=key.name,
        scope=key.scope.value,
        application_id=key.application_id,
        created_at=key.created_at,
    )


@router.get("/api/api-keys")
async def list_keys(ctx: Ctx, who: Caller) -> list[KeyOut]:
    _admin_only(who)
    return [_key_out(k) for k in ctx.repository.api_keys()]


@router.post("/api/api-keys", status_code=201)
async def create_key(body: KeyIn, ctx: Ctx, who: Caller) -> KeyCreated:
    _admin_only(who)
    scope = Scope(body.scope)
    if (scope is Scope.APPLICATION) != (body.application_id is not None):
        raise APIError(422, "applicationId: give it exactly when the scope is 'application'")
    if body.application_id is not None:
        ctx.repository.application(body.application_id)
    token = new_token()
    key = APIKey(uuid.uuid4(), body.name, scope, body.application_id)
    stored = ctx.repository.create_api_key(key, token_hash(token), ctx.now())
    return KeyCreated(**_key_out(stored).model_dump(), token=token)


@router.delete("/api/api-keys/{key_id}", status_code=204)
async def delete_key(key_id: uuid.UUID, ctx: Ctx, who: Caller) -> Response:
    _admin_only(who)
    if key_id == who.key_id:
        raise APIError(409, "an API key cannot delete itself")
    ctx.repository.delete_api_key(key_id)
    return Response(status_code=204)
