"""``appliance frame decode``: decode a PHYPayload for people, checking MICs when keys are given."""

from __future__ import annotations

import argparse
import json

from appliance.cli.arguments import aes_key, bounded_int, eui64, frame_bytes
from appliance.cli.errors import CLIUsageError
from appliance.cli.frame_report import DecodeKeys, decode_report
from appliance.lorawan.errors import FrameError

_KEY_OPTIONS = (
    ("--nwk-s-key", "LoRaWAN 1.0.x network session key (MIC, FPort 0 payload)"),
    ("--app-s-key", "application session key (FPort > 0 payload)"),
    ("--f-nwk-s-int-key", "LoRaWAN 1.1 FNwkSIntKey (uplink MIC)"),
    ("--s-nwk-s-int-key", "LoRaWAN 1.1 SNwkSIntKey (MICs; rejoin types 0/2)"),
    ("--nwk-s-enc-key", "LoRaWAN 1.1 NwkSEncKey (FOpts and FPort 0 payload)"),
    ("--app-key", "AppKey: join-request MIC and join-accept decryption (1.0.x devices)"),
    ("--nwk-key", "NwkKey: the same for 1.1 devices; also derives JSIntKey"),
    ("--js-int-key", "LoRaWAN 1.1 JSIntKey (rejoin type 1, join-accept with OptNeg)"),
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    frame = subparsers.add_parser(
        "frame", help="work with LoRaWAN frames", description="Work with LoRaWAN frames."
    )
    frame_sub = frame.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    decode = frame_sub.add_parser(
        "decode",
        help="decode a PHYPayload to JSON",
        description="Decode a PHYPayload (hex, or base64 as in gateway JSON) and print every "
        "field as JSON. With keys, the MIC is checked and payload, FOpts and join-accepts are "
        "decrypted; MAC commands are decoded. Checks that lack a key are reported as null.",
    )
    decode.add_argument("phy_payload", metavar="PHYPAYLOAD", help="the frame, hex or base64")
    decode.add_argument("--base64", action="store_true", help="read PHYPAYLOAD as base64")
    for option, text in _KEY_OPTIONS:
        decode.add_argument(option, type=aes_key, metavar="KEY", help=f"{text} (32 hex digits)")
    decode.add_argument(
        "--f-cnt-msb",
        type=bounded_int(0, 0xFFFF),
        default=0,
        metavar="N",
        help="upper 16 bits of the 32-bit frame counter (default 0)",
    )
    decode.add_argument(
        "--conf-f-cnt",
        type=bounded_int(0, 0xFFFF),
        default=0,
        metavar="N",
        help="1.1: counter of the confirmed frame being acknowledged (default 0)",
    )
    decode.add_argument(
        "--tx-dr",
        type=bounded_int(0, 15),
        default=0,
        metavar="DR",
        help="1.1 uplink MIC: data rate of the transmission (default 0)",
    )
    decode.add_argument(
        "--tx-ch",
        type=bounded_int(0, 255),
        default=0,
        metavar="CH",
        help="1.1 uplink MIC: channel index of the transmission (default 0)",
    )
    decode.add_argument(
        "--join-eui", type=eui64, metavar="EUI", help="1.1 join-accept MIC: JoinEUI of the request"
    )
    decode.add_argument(
        "--dev-eui",
        type=eui64,
        metavar="EUI",
        help="1.1 join-accept MIC: DevEUI (to derive JSIntKey from --nwk-key)",
    )
    decode.add_argument(
        "--dev-nonce",
        type=bounded_int(0, 0xFFFF),
        metavar="N",
        help="1.1 join-accept MIC: DevNonce of the request",
    )
    decode.add_argument(
        "--join-req-type",
        type=bounded_int(0, 0xFF),
        default=0xFF,
        metavar="T",
        help="1.1 join-accept MIC: 0xFF join-request (default), 0-2 rejoin type",
    )
    decode.set_defaults(handler=_decode)


def _decode(args: argparse.Namespace) -> int:
    try:
        data = frame_bytes(args.phy_payload, force_base64=args.base64)
    except ValueError as exc:
        raise CLIUsageError(str(exc)) from None
    keys = DecodeKeys(
        nwk_s_key=args.nwk_s_key,
        app_s_key=args.app_s_key,
        f_nwk_s_int_key=args.f_nwk_s_int_key,
        s_nwk_s_int_key=args.s_nwk_s_int_key,
        nwk_s_enc_key=args.nwk_s_enc_key,
        app_key=args.app_key,
        nwk_key=args.nwk_key,
        js_int_key=args.js_int_key,
        f_cnt_msb=args.f_cnt_msb,
        conf_f_cnt=args.conf_f_cnt,
        tx_dr=args.tx_dr,
        tx_ch=args.tx_ch,
        join_eui=args.join_eui,
        dev_eui=args.dev_eui,
        dev_nonce=args.dev_nonce,
        join_req_type=args.join_req_type,
    )
    try:
        report = decode_report(data, keys)
    except FrameError as exc:
        raise CLIUsageError(f"not a valid LoRaWAN frame: {exc}") from None
    print(json.dumps(report, indent=2))
    return 0
