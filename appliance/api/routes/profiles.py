"""Device profiles: the network-server settings of a kind of device, plus its payload codec."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from appliance.api.errors import APIError
from appliance.api.schemas import Body, Limit, Name, Offset, Page, Tags
from appliance.api.security import Caller, Ctx
from appliance.lorawan.regions import get_region
from appliance.ns.adr.registry import ALGORITHMS
from appliance.ns.profile import DeviceProfile, MACVersion, RegParamsRevision

router = APIRouter(prefix="/api/device-profiles", tags=["device profiles"])

CodecRuntime = Literal["none", "cayenne_lpp", "js"]
MAX_SCRIPT = 256 * 1024


class ProfileIn(Body):
    name: Name
    region: Annotated[str, Field(min_length=2, max_length=20)]
    mac_version: MACVersion = MACVersion.LORAWAN_1_0_3
    reg_params_revision: RegParamsRevision = RegParamsRevision.RP002_1_0_4
    supports_otaa: bool = True
    supports_class_b: bool = False
    supports_class_c: bool = False
    adr_algorithm: Annotated[str, Field(max_length=100)] = "default"
    uplink_interval: Annotated[int, Field(ge=1, le=30 * 86400)] = 3600
    device_status_req_interval: Annotated[int, Field(ge=0, le=1440)] = 1
    abp_rx1_delay: Annotated[int, Field(ge=1, le=15)] = 1
    abp_rx1_dr_offset: Annotated[int, Field(ge=0, le=7)] = 0
    abp_rx2_dr: Annotated[int, Field(ge=0, le=15)] | None = None
    abp_rx2_frequency: Annotated[int, Field(ge=100_000_000, le=1_000_000_000)] | None = None
    flush_queue_on_activate: bool = True
    payload_codec_runtime: CodecRuntime = "none"
    payload_codec_script: Annotated[str, Field(max_length=MAX_SCRIPT)] = ""
    tags: Tags = Field(default_factory=dict)


class ProfileOut(ProfileIn):
    id: uuid.UUID


def build_profile(body: ProfileIn, profile_id: uuid.UUID) -> DeviceProfile:
    region = get_region(body.region)
    if body.adr_algorithm not in ALGORITHMS.names():
        known = ", ".join(sorted(ALGORITHMS.names()))
        raise APIError(422, f"adrAlgorithm: unknown ADR algorithm (known: {known})")
    if body.payload_codec_runtime == "js" and not body.payload_codec_script.strip():
        raise APIError(422, "payloadCodecScript: a JavaScript codec needs a script")
    return DeviceProfile(
        name=body.name,
        region=region.name,
        mac_version=body.mac_version,
        reg_params_revision=body.reg_params_revision,
        supports_otaa=body.supports_otaa,
        supports_class_b=body.supports_class_b,
        supports_class_c=body.supports_class_c,
        adr_algorithm=body.adr_algorithm,
        uplink_interval_s=body.uplink_interval,
        device_status_req_interval=body.device_status_req_interval,
        abp_rx1_delay_s=body.abp_rx1_delay,
        abp_rx1_dr_offset=body.abp_rx1_dr_offset,
        abp_rx2_dr=body.abp_rx2_dr,
        abp_rx2_frequency=body.abp_rx2_frequency,
        flush_queue_on_activate=body.flush_queue_on_activate,
        codec=body.payload_codec_runtime,
        tags=dict(body.tags),
        id=profile_id,
    )


def profile_out(profile: DeviceProfile, script: str) -> ProfileOut:
    runtime = profile.codec if profile.codec in {"none", "cayenne_lpp", "js"} else "none"
    return ProfileOut(
        id=profile.id,
        name=profile.name,
        region=profile.region,
        mac_version=profile.mac_version,
        reg_params_revision=profile.reg_params_revision,
        supports_otaa=profile.supports_otaa,
        supports_class_b=profile.supports_class_b,
        supports_class_c=profile.supports_class_c,
        adr_algorithm=profile.adr_algorithm,
        uplink_interval=profile.uplink_interval_s,
        device_status_req_interval=profile.device_status_req_interval,
        abp_rx1_delay=profile.abp_rx1_delay_s,
        abp_rx1_dr_offset=profile.abp_rx1_dr_offset,
        abp_rx2_dr=profile.abp_rx2_dr,
        abp_rx2_frequency=profile.abp_rx2_frequency,
        flush_queue_on_activate=profile.flush_queue_on_activate,
        payload_codec_runtime=runtime,  # type: ignore[arg-type]
        payload_codec_script=script,
        tags=profile.tags,
    )


async def save_profile(ctx: Ctx, body: ProfileIn, profile_id: uuid.UUID) -> ProfileOut:
    profile = build_profile(body, profile_id)
    script = body.payload_codec_script if body.payload_codec_runtime == "js" else ""
    await ctx.store.add_profile(profile)
    ctx.repository.set_codec(profile.id, body.payload_codec_runtime, script)
    return profile_out(profile, script)


@router.get("")
async def list_profiles(
    ctx: Ctx, _: Caller, search: str = "", limit: Limit = 100, offset: Offset = 0
) -> Page[ProfileOut]:
    profiles = [p for p in await ctx.store.profiles() if search.lower() in p.name.lower()]
    page = profiles[offset : offset + limit]
    return Page(
        total_count=len(profiles),
        result=[profile_out(p, ctx.repository.codec(p.id)[1]) for p in page],
    )


@router.post("", status_code=201)
async def create_profile(body: ProfileIn, ctx: Ctx, who: Caller) -> ProfileOut:
    if not who.is_admin:
        raise APIError(403, "an admin API token is needed to manage device profiles")
    return await save_profile(ctx, body, uuid.uuid4())


@router.get("/{profile_id}")
async def get_profile(profile_id: uuid.UUID, ctx: Ctx, _: Caller) -> ProfileOut:
    profile = await ctx.store.profile(profile_id)
    if profile is None:
        raise APIError(404, f"no device profile {profile_id}")
    return profile_out(profile, ctx.repository.codec(profile_id)[1])


@router.put("/{profile_id}")
async def update_profile(
    profile_id: uuid.UUID, body: ProfileIn, ctx: Ctx, who: Caller
) -> ProfileOut:
    if not who.is_admin:
        raise APIError(403, "an admin API token is needed to manage device profiles")
    if await ctx.store.profile(profile_id) is None:
        raise APIError(404, f"no device profile {profile_id}")
    return await save_profile(ctx, body, profile_id)


@router.delete("/{profile_id}", status_code=204)
async def delete_profile(profile_id: uuid.UUID, ctx: Ctx, who: Caller) -> Response:
    if not who.is_admin:
        raise APIError(403, "an admin API token is needed to manage device profiles")
    if await ctx.store.profile(profile_id) is None:
        raise APIError(404, f"no device profile {profile_id}")
    await ctx.store.delete_profile(profile_id)
    ctx.repository.delete_codec(profile_id)
    return Response(status_code=204)
