"""The embedded join server: validate a join-request, build the join-accept and the session.

Rules (LoRaWAN 1.0.4 6.2.2-6.2.6, 1.1 6.2): the MIC is checked with AppKey (1.0.x) or NwkKey
(1.1); a DevNonce may never be reused by 1.0.0-1.0.3 devices, and must be strictly greater than
the last one for 1.0.4 and 1.1 devices (they count); the join-accept carries the next JoinNonce
of the device, the DevAddr allocated for it, DLSettings (OptNeg for 1.1 devices, the network's
RX1 DR offset and RX2 DR), RxDelay, and a CFList: the extra channels of a dynamic-plan region,
or the channel mask of the enabled sub-band of a fixed-plan region.

Pure: the caller supplies the device record, the DevNonce history verdict, the allocated
DevAddr and the JoinNonce, and stores what comes back before anything is sent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from appliance.lorawan import security
from appliance.lorawan.frames import JoinRequest
from appliance.lorawan.identifiers import AESKey, DevAddr
from appliance.lorawan.join_accept import CFList, CFListChannelMask, CFListFrequencies, DLSettings
from appliance.lorawan.join_accept import JoinAccept as JoinAcceptValue
from appliance.lorawan.regions import Region
from appliance.lorawan.regions.common import CFListType, DynamicChannelPlan
from appliance.lorawan.regions.fixed import FixedChannelPlan
from appliance.ns.device import Device
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession, ExtraChannel


class JoinRejection(StrEnum):
    DEVICE_DISABLED = "device_disabled"
    OTAA_NOT_SUPPORTED = "otaa_not_supported"
    NO_ROOT_KEYS = "no_root_keys"
    MIC_FAILED = "join_mic_failed"
    DEV_NONCE_REUSED = "dev_nonce_reused"
    DEV_NONCE_TOO_LOW = "dev_nonce_not_increasing"


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: JoinRejection
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Accepted:
    phy_payload: bytes  # the encrypted join-accept to transmit
    session: DeviceSession
    join_nonce: int
    dev_nonce: int


@dataclass(frozen=True, slots=True)
class DevNonceHistory:
    """What the store knows about the device's earlier DevNonces."""

    last: int | None  # the most recent accepted DevNonce
    seen_before: bool  # this DevNonce was used before (any version)


def check_request(
    request: JoinRequest, device: Device, profile: DeviceProfile, history: DevNonceHistory
) -> Rejected | None:
    """Everything that can refuse a join before anything is allocated or stored."""
    if not device.enabled:
        return Rejected(JoinRejection.DEVICE_DISABLED)
    if not profile.supports_otaa:
        return Rejected(JoinRejection.OTAA_NOT_SUPPORTED)
    join_key = (
        None if device.root_keys is None else device.root_keys.join_key(profile.mac_version.is_1_1)
    )
    if join_key is None:
        return Rejected(JoinRejection.NO_ROOT_KEYS)
    if not security.verify_join_request(request, join_key):
        return Rejected(JoinRejection.MIC_FAILED)
    nonce = request.dev_nonce
    if profile.mac_version.dev_nonce_is_counter:
        if history.last is not None and nonce <= history.last:
            return Rejected(
                JoinRejection.DEV_NONCE_TOO_LOW, f"DevNonce {nonce}, last accepted {history.last}"
            )
    elif history.seen_before:
        return Rejected(JoinRejection.DEV_NONCE_REUSED, f"DevNonce {nonce} was used before")
    return None


def allocate_dev_addr(settings: NetworkSettings, rng: random.Random) -> DevAddr:
    """A random DevAddr in the network's block (the NetID's range or ``dev_addr_prefix``).
    Two devices may draw the same one: the MIC tells them apart."""
    first, prefix_bits = settings.dev_addr_block()
    return DevAddr(first | rng.getrandbits(32 - prefix_bits) if prefix_bits < 32 else first)


def cf_list_and_channels(
    region: Region, settings: NetworkSettings, mac_version: MACVersion
) -> tuple[CFList | None, tuple[int, ...], dict[int, ExtraChannel]]:
    plan = region.channel_plan
    if isinstance(plan, FixedChannelPlan):
        # The device starts with all 72 channels; only a channel-mask CFList narrows them at
        # join. Older devices (and networks without a sub-band) keep all of them until the
        # MAC engine sends the sub-band's LinkADRReq block.
        all_channels = tuple(range(72))
        # The channel-mask CFList exists from LoRaWAN 1.0.3 / RP002 on.
        if (
            settings.enabled_sub_band
            and region.cflist_type is CFListType.CHANNEL_MASK
            and mac_version.at_least(MACVersion.LORAWAN_1_0_3)
        ):
            enabled = plan.sub_band(settings.enabled_sub_band).channel_indices
            masks = [0] * 5
            for channel in enabled:
                masks[channel // 16] |= 1 << (channel % 16)
            return CFListChannelMask(tuple(masks)), enabled, {}
        return None, all_channels, {}
    if isinstance(plan, DynamicChannelPlan):
        defaults = len(plan.default_channels)
        template = plan.default_channels[0]
        extras = {
            defaults + i: ExtraChannel(frequency, template.min_data_rate, template.max_data_rate)
            for i, frequency in enumerate(settings.extra_channels[:5])
        }
        enabled = tuple(range(defaults)) + tuple(extras)
        cf_list = (
            CFListFrequencies(tuple(settings.extra_channels[:5]))
            if extras and region.cflist_type is CFListType.FREQUENCIES
            else None
        )
        return cf_list, enabled, extras if cf_list else {}
    # CN470: the device starts from its own default plan; the network adjusts it later.
    channels = tuple(range(len(plan.join_channels())))
    return None, channels, {}


def accept(
    request: JoinRequest,
    *,
    device: Device,
    profile: DeviceProfile,
    settings: NetworkSettings,
    dev_addr: DevAddr,
    join_nonce: int,
    uplink_dr: int,
) -> Accepted:
    """Build the join-accept and the new session (call ``check_request`` first)."""
    assert device.root_keys is not None
    region = settings.region
    version = profile.mac_version
    root = device.root_keys
    if version.is_1_1:
        nwk_key = root.join_key(lorawan_1_1=True)
        assert nwk_key is not None, "check_request refuses 1.1 devices without NwkKey"
        keys = security.derive_session_keys_1_1(
            nwk_key,
            root.app_key,
            join_nonce=join_nonce,
            join_eui=request.join_eui,
            dev_nonce=request.dev_nonce,
        )
        mic_key: AESKey = security.derive_js_int_key(nwk_key, request.dev_eui)
        encryption_key = nwk_key
    else:
        keys = security.derive_session_keys_1_0(
            root.app_key, join_nonce=join_nonce, net_id=settings.net_id, dev_nonce=request.dev_nonce
        )
        mic_key = encryption_key = root.app_key
    cf_list, enabled, extras = cf_list_and_channels(region, settings, version)
    rx2_dr = settings.effective_rx2_dr
    accept_value = JoinAcceptValue(
        join_nonce=join_nonce,
        home_net_id=settings.net_id,
        dev_addr=dev_addr,
        dl_settings=DLSettings(settings.rx1_dr_offset, rx2_dr, opt_neg=version.is_1_1),
        rx_delay=settings.rx1_delay_s,
        cf_list=cf_list,
    )
    phy_payload = security.seal_join_accept(
        accept_value,
        mic_key=mic_key,
        encryption_key=encryption_key,
        join_eui=request.join_eui,
        dev_nonce=request.dev_nonce,
    )
    session = DeviceSession(
        dev_addr=dev_addr,
        keys=keys,
        mac_version=version,
        region=region.name,
        rx2_dr=rx2_dr,
        rx2_frequency=settings.effective_rx2_frequency,
        enabled_uplink_channels=enabled,
        extra_uplink_channels=extras,
        rx1_delay_s=settings.rx1_delay_s,
        rx1_dr_offset=settings.rx1_dr_offset,
        dr=uplink_dr,
        skip_f_cnt_check=device.skip_f_cnt_check,
        # RJcount1 is never restarted by the device, so the network never forgets it either.
        rejoin_count_1=0 if device.session is None else device.session.rejoin_count_1,
    )
    return Accepted(phy_payload, session, join_nonce, request.dev_nonce)
