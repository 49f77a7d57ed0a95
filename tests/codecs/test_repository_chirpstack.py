"""Import from a checkout in ChirpStack's lorawan-device-profiles layout (tests/data fixture)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appliance.codecs import (
    ImportedDevice,
    JSSandbox,
    RepositoryError,
    RepositoryImport,
    load_chirpstack_repository,
)

from .conftest import DATA, RECV_TIME

CHIRPSTACK = DATA / "chirpstack"


@pytest.fixture(scope="module")
def imported(sandbox: JSSandbox) -> RepositoryImport:
    return load_chirpstack_repository(CHIRPSTACK, sandbox=sandbox, now=RECV_TIME)


def _device(imported: RepositoryImport, device: str, region: str) -> ImportedDevice:
    (match,) = [d for d in imported.devices if (d.device_id, d.region) == (device, region)]
    return match


def test_every_device_and_profile_is_imported(imported: RepositoryImport) -> None:
    assert imported.source == "chirpstack"
    assert [(d.vendor_id, d.device_id, d.firmware_version, d.region) for d in imported.devices] == [
        ("acme", "th-100", "1.0", "EU868"),
        ("acme", "th-100", "1.0", "US915"),
        ("acme", "valve-3", "2.1", "EU868"),
    ]
    th = _device(imported, "th-100", "EU868")
    assert (th.vendor_name, th.name, th.description) == (
        "ACME Sensors",
        "TH-100",
        "Indoor temperature and humidity sensor",
    )


def test_profiles_carry_the_lorawan_settings(imported: RepositoryImport) -> None:
    eu = _device(imported, "th-100", "EU868").profile
    assert (eu.id, eu.mac_version, eu.reg_params_revision, eu.activation) == (
        "EU868-1_0_3",
        "1.0.3",
        "A",
        "OTAA",
    )
    # The zeros ChirpStack writes in sections that do not apply are not carried over.
    assert (eu.abp_rx1_delay_s, eu.abp_rx2_frequency, eu.class_c_timeout_s) == (None, None, None)

    us = _device(imported, "th-100", "US915").profile
    assert (us.mac_version, us.reg_params_revision, us.regional_parameters) == (
        "1.0.4",
        "RP002-1.0.3",
        "RP002-1.0.3",
    )
    assert (us.supports_class_c, us.class_c_timeout_s, us.max_eirp) == (True, 30, 30)

    abp = _device(imported, "valve-3", "EU868").profile
    assert abp.activation == "ABP"
    assert (abp.abp_rx1_delay_s, abp.abp_rx1_dr_offset, abp.abp_rx2_dr, abp.abp_rx2_frequency) == (
        1,
        0,
        3,
        869_525_000,
    )


def test_test_vectors_run_as_self_tests(imported: RepositoryImport) -> None:
    codec = _device(imported, "th-100", "EU868").codec
    assert codec is not None and codec.passed
    assert codec.files == ("vendors/acme/codecs/th-100.js",)
    assert [(t.kind, t.description) for t in codec.self_tests] == [
        ("uplink-decode", "Normal reading"),
        ("uplink-decode", "Unknown port"),
        ("downlink-encode", "Report every 15 minutes"),
    ]


def test_a_failing_test_vector_is_reported_with_the_difference(imported: RepositoryImport) -> None:
    codec = _device(imported, "valve-3", "EU868").codec
    assert codec is not None
    assert [(t.description, t.passed, t.reason) for t in codec.self_tests] == [
        ("Open, 12 l/min", True, ""),
        ("Closed (wrong expectation)", False, "data.flow: expected 1, got 0"),
    ]


def test_what_was_skipped_is_reported_by_file(imported: RepositoryImport) -> None:
    assert [str(s) for s in imported.skipped] == [
        "vendors/acme/codecs/test_encode_valve-3.json: its tests are not run: not a JavaScript "
        "value: SyntaxError: Unexpected token ']' (line 3)",
        "vendors/acme/profiles/CN470-1_0_3.toml: valve-3 2.1: region CN470 has four channel "
        "plans here (CN470-20A, CN470-20B, CN470-26A, CN470-26B) and the file does not say which",
        "vendors/acme/profiles/missing.toml: valve-3 2.1: file not found",
        "vendors/acme/devices/broken.toml: invalid TOML: Illegal character '\\n' (at line 2, "
        "column 15)",
        "vendors/acme/devices/absent.toml: file not found",
        "vendors/oldco/vendor.toml: the vendor's devices are skipped: name must be a non-empty "
        "string, not nothing",
    ]


def test_test_vectors_can_be_left_unrun() -> None:
    result = load_chirpstack_repository(CHIRPSTACK, run_examples=False)
    assert len(result.devices) == 3
    assert all(codec.self_tests == () for codec in result.codecs)
    assert not any("test_encode" in s.path for s in result.skipped)  # not even read


def test_a_directory_that_is_not_a_repository_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="is not a ChirpStack device-profile repository"):
        load_chirpstack_repository(tmp_path)


def test_test_vectors_are_evaluated_in_the_sandbox_not_trusted(
    tmp_path: Path, sandbox: JSSandbox
) -> None:
    root = tmp_path / "repo"
    shutil.copytree(CHIRPSTACK, root)
    vectors = root / "vendors" / "acme" / "codecs" / "test_decode_th-100.json"
    vectors.write_text("(function () { while (true) {} })()")
    result = load_chirpstack_repository(root, sandbox=sandbox, now=RECV_TIME)
    (skipped,) = [s for s in result.skipped if s.path.endswith("test_decode_th-100.json")]
    assert (
        skipped.reason == "its tests are not run: not a JavaScript value: timed out after 1000 ms"
    )
    codec = _device(result, "th-100", "EU868").codec
    assert codec is not None
    assert [t.kind for t in codec.self_tests] == ["downlink-encode"]
