"""Devices: enrolment, settings, root keys, ABP activation, the current session."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import Field

from appliance.api.errors import APIError
from appliance.api.schemas import (
    Body,
    Description,
    DevAddrText,
    EUIText,
    KeyText,
    Limit,
    Name,
    Offset,
    Page,
    Tags,
)
from appliance.api.security import Caller, Ctx, Principal, require_application
from appliance.app.defaults import default_application, default_profile
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr
from appliance.lorawan.security import SessionKeys
from appliance.ns.activation import abp_session
from appliance.ns.device import Device, RootKeys
from appliance.ns.profile import DeviceProfile, MACVersion

router = APIRouter(prefix="/api/devices", tags=["devices"])


class DeviceIn(Body):
    name: Name
    description: Description = ""
    join_eui: EUIText = "0000000000000000"
    application_id: uuid.UUID | None = None
    device_profile_id: uuid.UUID | None = None
    enabled: bool = True
    skip_f_cnt_check: bool = False
    tags: Tags = Field(default_factory=dict)
    variables: Tags = Field(default_factory=dict)


class DeviceCreate(DeviceIn):
    dev_eui: EUIText
    # Without a profile: the default profile of the configured region for this version.
    mac_version: MACVersion = MACVersion.LORAWAN_1_0_3
    app_key: KeyText | None = None
    nwk_key: KeyText | None = None


class DeviceOut(Body):
    dev_eui: str
    join_eui: str
    name: str
    description: str
    application_id: uuid.UUID
    device_profile_id: uuid.UUID
    device_profile_name: str
    mac_version: str
    enabled: bool
    skip_f_cnt_check: bool
    tags: dict[str, str]
    variables: dict[str, str]
    dev_addr: str | None = None
    last_seen_at: datetime | None = None
    rssi: int | None = None
    snr: float | None = None
    f_cnt_up: int | None = None
    dr: int | None = None
    battery_level: float | None = None
    margin: int | None = None
    external_power: bool | None = None
    created_at: str | None = None
    updated_at: str | None = None


class KeysIn(Body):
    app_key: KeyText
    nwk_key: KeyText | None = None


class KeysOut(Body):
    app_key: str | None
    nwk_key: str | None


class ActivateIn(Body):
    dev_addr: DevAddrText
    app_s_key: KeyText
    nwk_s_key: KeyText | None = None  # LoRaWAN 1.0.x
    f_nwk_s_int_key: KeyText | None = None  # LoRaWAN 1.1
    s_nwk_s_int_key: KeyText | None = None
    nwk_s_enc_key: KeyText | None = None
    f_cnt_up: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 0
    n_f_cnt_down: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 0
    a_f_cnt_down: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 0


class ActivationOut(Body):
    dev_addr: str
    mac_version: str
    f_cnt_up: int
    n_f_cnt_down: int
    a_f_cnt_down: int
    dr: int
    tx_power_index: int
    nb_trans: int
    adr: bool
    rx1_delay: int
    rx1_dr_offset: int
    rx2_dr: int
    rx2_frequency: int
    enabled_uplink_channels: list[int]
    # Session keys only for admin tokens.
    app_s_key: str | None = None
    nwk_s_enc_key: str | None = None
    s_nwk_s_int_key: str | None = None
    f_nwk_s_int_key: str | None = None


class LinkMetricsOut(Body):
    dev_eui: str
    last_seen_at: datetime | None
    recent_uplinks: int
    max_snr: list[float]
    max_rssi: list[int]
    gateway_count: list[int]


async def load_device(ctx: Ctx, who: Principal, dev_eui: str) -> Device:
    eui = _eui(dev_eui)
    device = await ctx.store.device_settings(eui)
    if device is None or not who.sees_application(device.application_id):
        raise APIError(404, f"no device {eui}")
    return device


def _eui(text: str) -> EUI64:
    try:
        return EUI64(text)
    except (ValueError, TypeError):
        raise APIError(422, f"devEui: {text[:40]!r} is not an EUI-64") from None


async def _profile(ctx: Ctx, profile_id: uuid.UUID) -> DeviceProfile:
    profile = await ctx.store.profile(profile_id)
    if profile is None:
        raise APIError(422, f"deviceProfileId: no device profile {profile_id}")
    return profile


def _check_keys(profile: DeviceProfile, app_key: str | None, nwk_key: str | None) -> None:
    if profile.mac_version.is_1_1 and app_key is not None and nwk_key is None:
        raise APIError(422, "nwkKey: a LoRaWAN 1.1 device needs both appKey and nwkKey")
    if not profile.mac_version.is_1_1 and nwk_key is not None:
        raise APIError(422, "nwkKey: only LoRaWAN 1.1 devices have a NwkKey (use appKey)")


def _root_keys(app_key: str | None, nwk_key: str | None) -> RootKeys | None:
    if app_key is None:
        return None
    return RootKeys(AESKey(app_key), None if nwk_key is None else AESKey(nwk_key))


async def device_out(ctx: Ctx, device: Device) -> DeviceOut:
    profile = await ctx.store.profile(device.profile_id)
    status = ctx.status.get(str(device.dev_eui))
    meta = ctx.repository.device_meta(device.dev_eui)
    full = await ctx.store.device(device.dev_eui)
    session = None if full is None else full.session
    return DeviceOut(
        dev_eui=str(device.dev_eui),
        join_eui=str(device.join_eui),
        name=device.name,
        description=meta["description"],
        application_id=device.application_id,
        device_profile_id=device.profile_id,
        device_profile_name="" if profile is None else profile.name,
        mac_version="" if profile is None else profile.mac_version.value,
        enabled=device.enabled,
        skip_f_cnt_check=device.skip_f_cnt_check,
        tags=device.tags,
        variables=device.variables,
        dev_addr=None if session is None else str(session.dev_addr),
        last_seen_at=status.last_seen_at,
        rssi=status.rssi,
        snr=status.snr,
        f_cnt_up=status.f_cnt_up,
        dr=status.dr,
        battery_level=status.battery_level,
        margin=status.margin,
        external_power=status.external_power,
        created_at=meta["created_at"],
        updated_at=meta["updated_at"],
    )


def _list_item(ctx: Ctx, device: Device, profiles: dict[uuid.UUID, DeviceProfile]) -> DeviceOut:
    profile = profiles.get(device.profile_id)
    status = ctx.status.get(str(device.dev_eui))
    return DeviceOut(
        dev_eui=str(device.dev_eui),
        join_eui=str(device.join_eui),
        name=device.name,
        description="",
        application_id=device.application_id,
        device_profile_id=device.profile_id,
        device_profile_name="" if profile is None else profile.name,
        mac_version="" if profile is None else profile.mac_version.value,
        enabled=device.enabled,
        skip_f_cnt_check=device.skip_f_cnt_check,
        tags=device.tags,
        variables=device.variables,
        last_seen_at=status.last_seen_at,
        rssi=status.rssi,
        snr=status.snr,
        f_cnt_up=status.f_cnt_up,
        dr=status.dr,
        battery_level=status.battery_level,
        margin=status.margin,
        external_power=status.external_power,
    )


@router.get("")
async def list_devices(
    ctx: Ctx,
    who: Caller,
    *,
    application_id: Annotated[uuid.UUID | None, Query(alias="applicationId")] = None,
    search: Annotated[str, Field(max_length=100)] = "",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[DeviceOut]:
    if who.application_id is not None:
        if application_id is not None and application_id != who.application_id:
            raise APIError(404, f"no application {application_id}")
        application_id = who.application_id
    devices, total = await ctx.store.list_devices(
        application_id=application_id, search=search, limit=limit, offset=offset
    )
    profiles = {p.id: p for p in await ctx.store.profiles()}
    return Page(total_count=total, result=[_list_item(ctx, d, profiles) for d in devices])


@router.post("", status_code=201)
async def create_device(body: DeviceCreate, ctx: Ctx, who: Caller) -> DeviceOut:
    now = ctx.now()
    app_id = body.application_id
    if app_id is None:
        if who.application_id is not None:
            app_id = who.application_id
        else:
            app_id = default_application(ctx.repository, now).id
    require_application(who, app_id)
    ctx.repository.application(app_id)
    if body.device_profile_id is None:
        profile = await default_profile(
            ctx.store, ctx.repository, ctx.settings.region_name, body.mac_version
        )
    else:
        profile = await _profile(ctx, body.device_profile_id)
    _check_keys(profile, body.app_key, body.nwk_key)
    device = Device(
        EUI64(body.dev_eui),
        EUI64(body.join_eui),
        body.name,
        profile.id,
        app_id,
        _root_keys(body.app_key, body.nwk_key),
        body.enabled,
        body.skip_f_cnt_check,
        None,
        dict(body.tags),
        dict(body.variables),
    )
    await ctx.store.add_device(device)
    ctx.repository.set_device_meta(device.dev_eui, body.description, now)
    return await device_out(ctx, device)


@router.get("/{dev_eui}")
async def get_device(dev_eui: str, ctx: Ctx, who: Caller) -> DeviceOut:
    return await device_out(ctx, await load_device(ctx, who, dev_eui))


@router.put("/{dev_eui}")
async def update_device(dev_eui: str, body: DeviceIn, ctx: Ctx, who: Caller) -> DeviceOut:
    current = await load_device(ctx, who, dev_eui)
    full = await ctx.store.device(current.dev_eui)
    assert full is not None
    app_id = body.application_id or current.application_id
    require_application(who, app_id)
    ctx.repository.application(app_id)
    profile_id = body.device_profile_id or current.profile_id
    profile = await _profile(ctx, profile_id)
    if full.root_keys is not None:
        _check_keys(
            profile,
            str(full.root_keys.app_key),
            None if full.root_keys.nwk_key is None else str(full.root_keys.nwk_key),
        )
    full.join_eui = EUI64(body.join_eui)
    full.name = body.name
    full.application_id = app_id
    full.profile_id = profile.id
    full.enabled = body.enabled
    full.skip_f_cnt_check = body.skip_f_cnt_check
    full.tags = dict(body.tags)
    full.variables = dict(body.variables)
    await ctx.store.update_device(full)
    ctx.repository.set_device_meta(full.dev_eui, body.description, ctx.now())
    return await device_out(ctx, full)


@router.delete("/{dev_eui}", status_code=204)
async def delete_device(dev_eui: str, ctx: Ctx, who: Caller) -> Response:
    device = await load_device(ctx, who, dev_eui)
    await ctx.store.delete_device(device.dev_eui)
    ctx.repository.delete_device_records(device.dev_eui)
    ctx.status.forget(str(device.dev_eui))
    return Response(status_code=204)


@router.get("/{dev_eui}/keys")
async def get_keys(dev_eui: str, ctx: Ctx, who: Caller) -> KeysOut:
    device = await load_device(ctx, who, dev_eui)
    if who.scope.value == "read-only":
        raise APIError(403, "root keys are not shown to read-only tokens")
    full = await ctx.store.device(device.dev_eui)
    keys = None if full is None else full.root_keys
    if keys is None:
        raise APIError(404, f"device {device.dev_eui} has no root keys (ABP)")
    return KeysOut(
        app_key=str(keys.app_key), nwk_key=None if keys.nwk_key is None else str(keys.nwk_key)
    )


@router.put("/{dev_eui}/keys")
async def set_keys(dev_eui: str, body: KeysIn, ctx: Ctx, who: Caller) -> KeysOut:
    device = await load_device(ctx, who, dev_eui)
    profile = await _profile(ctx, device.profile_id)
    _check_keys(profile, body.app_key, body.nwk_key)
    full = await ctx.store.device(device.dev_eui)
    assert full is not None
    full.root_keys = _root_keys(body.app_key, body.nwk_key)
    await ctx.store.update_device(full)
    return KeysOut(app_key=body.app_key, nwk_key=body.nwk_key)


@router.post("/{dev_eui}/activate")
async def activate(dev_eui: str, body: ActivateIn, ctx: Ctx, who: Caller) -> ActivationOut:
    device = await load_device(ctx, who, dev_eui)
    profile = await _profile(ctx, device.profile_id)
    if profile.mac_version.is_1_1:
        missing = [
            name
            for name, value in (
                ("fNwkSIntKey", body.f_nwk_s_int_key),
                ("sNwkSIntKey", body.s_nwk_s_int_key),
                ("nwkSEncKey", body.nwk_s_enc_key),
            )
            if value is None
        ]
        if missing:
            raise APIError(422, f"{missing[0]}: a LoRaWAN 1.1 device needs all session keys")
        assert body.f_nwk_s_int_key and body.s_nwk_s_int_key and body.nwk_s_enc_key
        keys = SessionKeys(
            AESKey(body.f_nwk_s_int_key),
            AESKey(body.s_nwk_s_int_key),
            AESKey(body.nwk_s_enc_key),
            AESKey(body.app_s_key),
        )
    else:
        if body.nwk_s_key is None:
            raise APIError(422, "nwkSKey: a LoRaWAN 1.0.x device needs nwkSKey and appSKey")
        keys = SessionKeys.for_1_0(AESKey(body.nwk_s_key), AESKey(body.app_s_key))
    session = abp_session(device, profile, ctx.settings, dev_addr=DevAddr(body.dev_addr), keys=keys)
    session.f_cnt_up = body.f_cnt_up
    session.n_f_cnt_down = body.n_f_cnt_down
    session.a_f_cnt_down = body.a_f_cnt_down
    await ctx.store.activate_abp(device.dev_eui, session)
    return await get_activation(dev_eui, ctx, who)


@router.get("/{dev_eui}/activation")
async def get_activation(dev_eui: str, ctx: Ctx, who: Caller) -> ActivationOut:
    device = await load_device(ctx, who, dev_eui)
    full = await ctx.store.device(device.dev_eui)
    session = None if full is None else full.session
    if session is None:
        raise APIError(404, f"device {device.dev_eui} is not activated")
    keys = session.keys if who.is_admin else None
    return ActivationOut(
        dev_addr=str(session.dev_addr),
        mac_version=session.mac_version.value,
        f_cnt_up=session.f_cnt_up,
        n_f_cnt_down=session.n_f_cnt_down,
        a_f_cnt_down=session.a_f_cnt_down,
        dr=session.dr,
        tx_power_index=session.tx_power_index,
        nb_trans=session.nb_trans,
        adr=session.adr,
        rx1_delay=session.rx1_delay_s,
        rx1_dr_offset=session.rx1_dr_offset,
        rx2_dr=session.rx2_dr,
        rx2_frequency=session.rx2_frequency,
        enabled_uplink_channels=list(session.enabled_uplink_channels),
        app_s_key=None if keys is None else str(keys.app_s_key),
        nwk_s_enc_key=None if keys is None else str(keys.nwk_s_enc_key),
        s_nwk_s_int_key=None if keys is None else str(keys.s_nwk_s_int_key),
        f_nwk_s_int_key=None if keys is None else str(keys.f_nwk_s_int_key),
    )


@router.delete("/{dev_eui}/activation", status_code=204)
async def deactivate(dev_eui: str, ctx: Ctx, who: Caller) -> Response:
    device = await load_device(ctx, who, dev_eui)
    await ctx.store.deactivate(device.dev_eui)
    return Response(status_code=204)


@router.delete("/{dev_eui}/dev-nonces", status_code=204)
async def flush_dev_nonces(dev_eui: str, ctx: Ctx, who: Caller) -> Response:
    device = await load_device(ctx, who, dev_eui)
    await ctx.store.flush_dev_nonces(device.dev_eui)
    return Response(status_code=204)


@router.get("/{dev_eui}/link-metrics")
async def link_metrics(dev_eui: str, ctx: Ctx, who: Caller) -> LinkMetricsOut:
    device = await load_device(ctx, who, dev_eui)
    full = await ctx.store.device(device.dev_eui)
    history = [] if full is None or full.session is None else full.session.uplink_history
    return LinkMetricsOut(
        dev_eui=str(device.dev_eui),
        last_seen_at=ctx.status.get(str(device.dev_eui)).last_seen_at,
        recent_uplinks=len(history),
        max_snr=[h.max_snr for h in history],
        max_rssi=[h.max_rssi for h in history],
        gateway_count=[h.gateway_count for h in history],
    )
