"""``appliance frame decode`` as a user runs it. A first decode, a usage error and --version
run the real command in a subprocess; the other cases call the same entry point in-process
(``in_process``: its exit code, stdout and stderr, without a second of start-up a case)."""

from __future__ import annotations

import pytest

from tests.cli_helpers import (
    appliance,
    appliance_json,
    assert_usage_error,
    in_process,
    in_process_json,
)
from tests.lorawan.vectors import vector


def test_decodes_a_1_0_uplink_with_keys() -> None:
    given, expected = vector("lora_packet_readme")
    report = appliance_json(
        "frame",
        "decode",
        given["PHYPayload"],
        "--nwk-s-key",
        given["NwkSKey"],
        "--app-s-key",
        given["AppSKey"],
    )
    assert report["message_type"] == "UnconfirmedDataUp"
    assert report["dev_addr"] == "49be7df1"
    assert report["f_cnt"] == 2
    assert report["f_port"] == 1
    assert report["mic"] == expected["MIC"]
    assert report["mic_valid"] is True
    assert report["payload"] == expected["plaintext"]


def test_wrong_key_reports_invalid_mic_and_no_key_reports_null() -> None:
    given, _ = vector("lora_packet_readme")
    wrong = in_process_json("frame", "decode", given["PHYPayload"], "--nwk-s-key", "00" * 16)
    assert wrong["mic_valid"] is False
    keyless = in_process_json("frame", "decode", given["PHYPayload"])
    assert keyless["mic_valid"] is None
    assert keyless["payload"] is None


def test_f_cnt_msb_enters_the_mic() -> None:
    given, _ = vector("lora_packet_readme")
    report = in_process_json(
        "frame", "decode", given["PHYPayload"], "--nwk-s-key", given["NwkSKey"], "--f-cnt-msb", "1"
    )
    assert report["f_cnt_32"] == 0x10002
    assert report["mic_valid"] is False


def test_mac_commands_in_f_opts_are_decoded() -> None:
    given, expected = vector("lw10_confirmed_up_devstatusans")
    report = in_process_json(
        "frame",
        "decode",
        expected["PHYPayload"],
        "--nwk-s-key",
        given["NwkSKey"],
        "--app-s-key",
        given["AppSKey"],
    )
    assert report["message_type"] == "ConfirmedDataUp"
    assert report["mic_valid"] is True
    (command,) = report["mac_commands"]
    assert command["name"] == "DevStatusAns"
    assert command["battery"] == 115
    assert command["margin"] == 7


def test_mac_commands_on_port_0_are_decrypted_then_decoded() -> None:
    given, expected = vector("lw10_uplink_port0_maccmds")
    report = in_process_json(
        "frame", "decode", expected["PHYPayload"], "--nwk-s-key", given["NwkSKey"]
    )
    assert report["payload"] == given["plaintext_hex"]
    assert [c["name"] for c in report["mac_commands"]] == ["LinkCheckReq", "LinkADRAns"]


def test_1_1_downlink_with_encrypted_f_opts() -> None:
    given, expected = vector("lw11_downlink_fopts_encrypted")
    case = given["case_nfcnt"]
    report = in_process_json(
        "frame",
        "decode",
        expected["case_nfcnt_PHYPayload"],
        "--s-nwk-s-int-key",
        case["SNwkSIntKey"],
        "--nwk-s-enc-key",
        case["NwkSEncKey"],
    )
    assert report["mic_valid"] is True
    assert report["f_opts_plain"] == case["FOpts_plain"]
    assert report["mac_commands"][0]["name"] == "LinkCheckAns"


def test_1_1_uplink_mic_uses_tx_dr_and_tx_ch() -> None:
    given, expected = vector("lw11_uplink_mic_b0_b1")
    keys = [
        "--f-nwk-s-int-key",
        given["FNwkSIntKey"],
        "--s-nwk-s-int-key",
        given["SNwkSIntKey"],
        "--app-s-key",
        given["AppSKey"],
    ]
    args = ["frame", "decode", expected["PHYPayload_ack1"], *keys]
    good = in_process_json(*args, "--conf-f-cnt", "1", "--tx-dr", "2", "--tx-ch", "3")
    assert good["mic_valid"] is True
    assert good["payload"] == given["plaintext_hex"]
    assert in_process_json(*args)["mic_valid"] is False


def test_join_request_and_base64_input() -> None:
    given, expected = vector("join_request_mic")
    report = in_process_json(
        "frame", "decode", expected["a_b64"], "--app-key", given["a"]["AppKey"]
    )
    assert report["message_type"] == "JoinRequest"
    assert report["join_eui"] == given["a"]["JoinEUI"]
    assert report["dev_eui"] == given["a"]["DevEUI"]
    assert report["dev_nonce"] == given["a"]["DevNonce"]
    assert report["mic_valid"] is True


def test_join_accept_is_decrypted_with_the_app_key() -> None:
    given, expected = vector("join_accept_lw10")
    report = in_process_json(
        "frame", "decode", expected["a_wire"], "--app-key", given["a"]["AppKey"]
    )
    assert report["message_type"] == "JoinAccept"
    assert report["join_nonce"] == given["a"]["JoinNonce"]
    assert report["home_net_id"] == given["a"]["NetID"]
    assert report["dev_addr"] == given["a"]["DevAddr"]
    assert report["mic_valid"] is True


def test_1_1_join_accept_mic_needs_and_uses_the_request_fields() -> None:
    given, expected = vector("join_accept_lw11_optneg")
    base = ["frame", "decode", expected["wire"], "--nwk-key", given["Key"]]
    assert in_process_json(*base)["mic_valid"] is None
    report = in_process_json(
        *base,
        "--join-eui",
        given["JoinEUI"],
        "--dev-nonce",
        str(given["DevNonce"]),
        "--js-int-key",
        given["Key"],
    )
    assert report["dl_settings"]["opt_neg"] is True
    assert report["mic_valid"] is True


def test_rejoin_request_type_1() -> None:
    given, expected = vector("rejoin_request_mic")
    report = in_process_json(
        "frame", "decode", expected["type1_PHYPayload"], "--js-int-key", given["key"]
    )
    assert report["message_type"] == "RejoinRequest"
    assert report["rejoin_type"] == 1
    assert report["rj_count1"] == given["type1"]["RJCount1"]
    assert report["mic_valid"] is True


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["frame", "decode", "zz!"], "not hex or base64"),
        (["frame", "decode", "40"], "not a valid LoRaWAN frame"),
        (
            ["frame", "decode", "400403020180010001a694642615d6c3b582", "--nwk-s-key", "12"],
            "argument --nwk-s-key",
        ),
        (["frame", "decode", "00", "--f-cnt-msb", "70000"], "must be 0..65535"),
        (["frame", "decode"], "required"),
        (["frame"], "required"),
        (["no-such-command"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    assert_usage_error(in_process(*args), fragment)


def test_bad_input_from_the_real_process() -> None:
    # Nothing else on stderr (no warning, no traceback) when the whole program runs.
    assert_usage_error(appliance("frame", "decode", "zz!"), "not hex or base64")


def test_help_and_version() -> None:
    for args in (
        ["--help"],
        ["frame", "--help"],
        ["frame", "decode", "--help"],
        ["run", "--help"],
        ["region", "--help"],
    ):
        result = in_process(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert "usage: appliance" in result.stdout
    version = appliance("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("appliance ")
