"""The default application and per-region, per-version default profiles, made on first need
so that ``appliance device add`` works with nothing set up."""

from __future__ import annotations

import uuid
from datetime import datetime

from appliance.app.model import Application
from appliance.app.repository import Repository
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.sqlite_store import SQLiteStore

DEFAULT_APPLICATION = "default"


def default_application(repository: Repository, now: datetime) -> Application:
    apps, _ = repository.applications(search=DEFAULT_APPLICATION, limit=1000)
    for app in apps:
        if app.name == DEFAULT_APPLICATION:
            return app
    created = Application(
        uuid.uuid4(), DEFAULT_APPLICATION, "created for devices added without an application"
    )
    return repository.create_application(created, now)


def default_profile_name(region: str, mac_version: MACVersion) -> str:
    return f"default {region} LoRaWAN {mac_version.value}"


async def default_profile(
    store: SQLiteStore, repository: Repository, region: str, mac_version: MACVersion
) -> DeviceProfile:
    name = default_profile_name(region, mac_version)
    for profile in await store.profiles():
        if profile.name == name:
            return profile
    profile = DeviceProfile(name=name, region=region, mac_version=mac_version)
    await store.add_profile(profile)
    repository.set_codec(profile.id, "none", "")
    return profile
