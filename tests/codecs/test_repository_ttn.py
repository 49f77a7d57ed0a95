"""Import from a checkout in The Things Network's lorawan-devices layout (tests/data fixture)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appliance.codecs import (
    CodecRunner,
    CodecSpec,
    DecodeResult,
    ImportedDevice,
    JSSandbox,
    RepositoryError,
    RepositoryImport,
    load_ttn_repository,
)

from .conftest import DATA, RECV_TIME

TTN = DATA / "ttn"


@pytest.fixture(scope="module")
def imported(sandbox: JSSandbox) -> RepositoryImport:
    return load_ttn_repository(TTN, sandbox=sandbox, now=RECV_TIME)


def _device(imported: RepositoryImport, device: str, firmware: str, region: str) -> ImportedDevice:
    (match,) = [
        d
        for d in imported.devices
        if (d.device_id, d.firmware_version, d.region) == (device, firmware, region)
    ]
    return match


def test_every_device_firmware_and_region_is_imported(imported: RepositoryImport) -> None:
    assert imported.source == "ttn"
    assert sorted((d.device_id, d.firmware_version, d.region) for d in imported.devices) == [
        ("cn-node", "1.0", "EU868"),
        ("door-20", "1.2", "EU868"),
        ("relay-1", "0.9", "EU868"),
        ("th-100", "1.0", "AS923-1"),
        ("th-100", "1.0", "AS923-2"),
        ("th-100", "1.0", "AS923-3"),
        ("th-100", "1.0", "AS923-4"),
        ("th-100", "1.0", "EU868"),
        ("th-100", "1.0", "US915"),
        ("th-100", "2.0", "EU868"),
    ]
    assert {(d.vendor_id, d.vendor_name) for d in imported.devices} == {("acme", "ACME Sensors")}


def test_profiles_carry_the_lorawan_settings(imported: RepositoryImport) -> None:
    eu = _device(imported, "th-100", "1.0", "EU868")
    assert eu.name == "TH-100"
    assert eu.description == "Indoor temperature and humidity sensor"
    assert (eu.profile.id, eu.profile.mac_version, eu.profile.regional_parameters) == (
        "eu868-profile",
        "1.0.3",
        "RP001-1.0.3-RevA",
    )
    assert eu.profile.reg_params_revision == "A"
    assert eu.profile.activation == "OTAA"
    assert (eu.profile.supports_class_b, eu.profile.supports_class_c) == (False, False)
    assert eu.profile.max_eirp == 16

    us = _device(imported, "th-100", "1.0", "US915").profile
    assert (us.mac_version, us.reg_params_revision) == ("1.0.2", "B")

    as923 = _device(imported, "th-100", "1.0", "AS923-3").profile
    assert (as923.mac_version, as923.reg_params_revision, as923.supports_class_b) == (
        "1.1.0",
        "B",
        True,
    )
    assert as923.class_b_timeout_s == 60


def test_a_profile_of_another_vendor_is_found_through_vendor_id(imported: RepositoryImport) -> None:
    profile = _device(imported, "th-100", "2.0", "EU868").profile
    assert profile.id == "mc-eu868-classc-profile"
    assert (profile.mac_version, profile.reg_params_revision) == ("1.0.4", "RP002-1.0.3")
    assert (profile.supports_class_c, profile.class_c_timeout_s) == (True, 30)


def test_abp_profiles_keep_their_rx_settings(imported: RepositoryImport) -> None:
    relay = _device(imported, "relay-1", "0.9", "EU868")
    assert relay.codec is None
    assert relay.profile.activation == "ABP"
    assert (
        relay.profile.abp_rx1_delay_s,
        relay.profile.abp_rx1_dr_offset,
        relay.profile.abp_rx2_dr,
        relay.profile.abp_rx2_frequency,
    ) == (1, 0, 3, 869_525_000)


def test_codec_examples_run_as_self_tests(imported: RepositoryImport) -> None:
    codec = _device(imported, "th-100", "1.0", "EU868").codec
    assert codec is not None and codec.id == "th-100-codec"
    assert codec.files == ("vendor/acme/th-100.js",)
    assert [(t.kind, t.description, t.passed) for t in codec.self_tests] == [
        ("uplink-decode", "Normal reading", True),
        ("uplink-decode", "Freezing, battery low", True),
        ("uplink-decode", "Unknown FPort", True),
        ("downlink-encode", "Report every 15 minutes", True),
        ("downlink-encode", "Interval too short", True),
        ("downlink-decode", "Report every 15 minutes", True),
    ]
    assert codec.passed
    # One codec object is shared by every region and device that names it.
    assert _device(imported, "th-100", "1.0", "AS923-2").codec is codec


def test_a_failing_example_is_reported_with_the_difference(imported: RepositoryImport) -> None:
    codec = _device(imported, "th-100", "2.0", "EU868").codec
    assert codec is not None and not codec.passed
    (failure,) = codec.failures
    assert failure.description == "Reading with pressure (wrong expectation)"
    assert failure.reason == "data.temperature: expected 21.6, got 21.54"
    assert [t.passed for t in codec.self_tests] == [False, True]


def test_a_codec_split_over_two_files_is_joined(imported: RepositoryImport) -> None:
    codec = _device(imported, "door-20", "1.2", "EU868").codec
    assert codec is not None and codec.passed
    assert codec.files == ("vendor/acme/door-20.js", "vendor/acme/door-20-downlink.js")
    assert "function decodeUplink" in codec.script and "function encodeDownlink" in codec.script


def test_what_was_skipped_is_reported_by_file(imported: RepositoryImport) -> None:
    assert [(s.path, s.reason.split(":")[0]) for s in imported.skipped] == [
        ("vendor/example", "a draft vendor"),
        ("vendor/acme/broken-yaml.yaml", "invalid YAML"),
        ("vendor/acme/not-there.yaml", "file not found"),
        ("vendor/acme/cn-node.yaml", "firmware 1.0"),
        ("vendor/acme/cn-node.yaml", "firmware 1.0"),
        ("vendor/acme/no-such-codec.yaml", "devices using this codec get none"),
    ]
    reasons = [str(s) for s in imported.skipped]
    assert "vendor/acme/broken-yaml.yaml: invalid YAML: expected ',' or ']'" in reasons[1]
    assert "region CN470-510 has four channel plans here" in reasons[3]
    assert "unknown region 'ISM2400'" in reasons[4]
    # The device whose codec is missing is still imported, without a codec.
    assert _device(imported, "cn-node", "1.0", "EU868").codec is None


async def test_an_imported_codec_decodes_through_the_runner(
    imported: RepositoryImport, runner: CodecRunner
) -> None:
    codec = _device(imported, "th-100", "1.0", "EU868").codec
    assert codec is not None
    result = await runner.decode_uplink(
        CodecSpec("js", codec.script),
        f_port=1,
        data=bytes.fromhex("086a5a0960"),
        recv_time=RECV_TIME,
    )
    assert result == DecodeResult(
        {"temperature": 21.54, "humidity": 45, "battery": 2.4}, ["battery low"]
    )


def test_examples_can_be_left_unrun() -> None:
    result = load_ttn_repository(TTN, run_examples=False)
    assert len(result.devices) == 10
    assert all(codec.self_tests == () for codec in result.codecs)


def test_a_directory_that_is_not_a_repository_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="is not a TTN device repository"):
        load_ttn_repository(tmp_path)
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "index.yaml").write_text("vendors: {not: [a list]}\n")
    with pytest.raises(RepositoryError, match="vendors must be a list"):
        load_ttn_repository(tmp_path, run_examples=False)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(TTN, root)
    return root


def test_files_outside_the_repository_are_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    codec = root / "vendor" / "acme" / "door-20-codec.yaml"
    codec.write_text(codec.read_text().replace("fileName: door-20.js", "fileName: ../../../secret"))
    (tmp_path / "secret").write_text("function decodeUplink() {}")
    result = load_ttn_repository(root, run_examples=False)
    assert any(
        s.path == "vendor/acme/door-20-codec.yaml" and "outside the repository" in s.reason
        for s in result.skipped
    )
    assert _device(result, "door-20", "1.2", "EU868").codec is None


@pytest.mark.parametrize(
    "edit",
    [
        (
            "eu868-profile.yaml",
            "macVersion: 1.0.3",
            "macVersion: 2.0",
            "unknown LoRaWAN MAC version",
        ),
        (
            "eu868-profile.yaml",
            "RP001-1.0.3-RevA",
            "RP009",
            "unknown regional-parameters revision 'RP009'",
        ),
        ("eu868-profile.yaml", "supportsJoin: true", "supportsJoin: maybe", "supportsJoin must be"),
        ("th-100.yaml", "name: TH-100", "name: [1, 2]", "name must be a non-empty string"),
        ("th-100-codec.yaml", "fPort: 42", "fPort: 300", "unusable example input: fPort 300"),
    ],
)
def test_bad_values_name_the_file_and_the_import_goes_on(
    tmp_path: Path, sandbox: JSSandbox, edit: tuple[str, str, str, str]
) -> None:
    file, old, new, reason = edit
    root = _copy(tmp_path)
    path = root / "vendor" / "acme" / file
    path.write_text(path.read_text().replace(old, new))
    result = load_ttn_repository(root, sandbox=sandbox, now=RECV_TIME)
    found = [str(s) for s in result.skipped if reason in s.reason]
    found += [
        f"{c.id}: {t.reason}" for c in result.codecs for t in c.failures if reason in t.reason
    ]
    assert found, [str(s) for s in result.skipped]
    assert _device(result, "relay-1", "0.9", "EU868")  # the others are still imported
