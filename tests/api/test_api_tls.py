"""The API over HTTPS when api_tls_cert and api_tls_key are configured."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from tests.appliance_process import running_appliance
from tests.cli_helpers import appliance, assert_usage_error
from tests.mosquitto_broker import make_tls_files


def test_api_served_over_tls(tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path / "tls")
    config = tmp_path / "appliance.toml"
    config.write_text(f'api_tls_cert = "{tls.server_cert}"\napi_tls_key = "{tls.server_key}"\n')
    with running_appliance(tmp_path / "d", "--config", str(config)) as running:
        assert running.url.startswith("https://")
        context = ssl.create_default_context(cafile=str(tls.ca_cert))
        with httpx.Client(base_url=running.url, verify=context) as client:
            assert client.get("/health").json() == {"status": "ok"}
            headers = {"Authorization": f"Bearer {running.token}"}
            assert client.get("/api/devices", headers=headers).status_code == 200
        # Plain HTTP to the TLS port is refused rather than answered in clear text.
        plain = running.url.replace("https://", "http://")
        try:
            answered = httpx.get(f"{plain}/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            answered = False
        assert not answered


def test_a_missing_certificate_is_a_one_line_error(tmp_path: Path) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text(f'api_tls_cert = "{tmp_path}/no.pem"\napi_tls_key = "{tmp_path}/no.key"\n')
    result = appliance(
        "run", "--config", str(config), "--data-dir", str(tmp_path / "d"),
        "--udp-bind", "127.0.0.1:0", "--basic-station-bind", "", "--api-bind", "127.0.0.1:0",
    )  # fmt: skip
    assert_usage_error(result, "api_tls_cert: cannot read")
