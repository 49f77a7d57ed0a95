"""The FastAPI application: routers, error handling and the OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI

from appliance import __version__
from appliance.api import errors
from appliance.api.context import APIContext
from appliance.api.routes import (
    applications,
    config,
    devices,
    gateways,
    profiles,
    queue,
    stream,
    system,
    users,
)


def create_app(ctx: APIContext) -> FastAPI:
    app = FastAPI(
        title="LoRaWAN appliance",
        version=__version__,
        description="Manage the appliance's applications, devices, gateways and users; "
        "send downlinks; follow the live stream. Authenticate with "
        "`Authorization: Bearer <API key>`.",
    )
    app.state.context = ctx
    errors.install(app)
    for module in (system, config, applications, profiles, devices, queue, gateways, users, stream):
        app.include_router(module.router)
    return app
