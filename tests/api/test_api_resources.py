"""Applications, profiles, gateways, the queue, integrations and system endpoints."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

APP_KEY = "00112233445566778899aabbccddeeff"


def test_applications_crud(api: httpx.Client) -> None:
    created = api.post(
        "/api/applications", json={"name": "farm", "description": "cows", "tags": {"a": "b"}}
    )
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    updated = api.put(f"/api/applications/{app_id}", json={"name": "farm 2"})
    assert updated.json()["name"] == "farm 2"
    listed = api.get("/api/applications", params={"search": "farm 2"}).json()
    assert [a["id"] for a in listed["result"]] == [app_id]
    eui = uuid.uuid4().hex[:16]
    api.post(
        "/api/devices",
        json={"devEui": eui, "name": "cow", "appKey": APP_KEY, "applicationId": app_id},
    )
    busy = api.delete(f"/api/applications/{app_id}")
    assert busy.status_code == 409
    assert "device" in busy.json()["error"]
    api.delete(f"/api/devices/{eui}")
    assert api.delete(f"/api/applications/{app_id}").status_code == 204
    assert api.get(f"/api/applications/{app_id}").status_code == 404


def test_device_profiles_validate_and_protect_their_devices(api: httpx.Client) -> None:
    bad_region = api.post("/api/device-profiles", json={"name": "p", "region": "MARS"})
    assert bad_region.status_code == 400
    assert "MARS" in bad_region.json()["error"]
    bad_adr = api.post(
        "/api/device-profiles", json={"name": "p", "region": "EU868", "adrAlgorithm": "magic"}
    )
    assert bad_adr.status_code == 422
    js = api.post(
        "/api/device-profiles",
        json={
            "name": "with codec",
            "region": "US915",
            "macVersion": "1.0.4",
            "payloadCodecRuntime": "js",
            "payloadCodecScript": "function decodeUplink(input) { return {data: {}}; }",
        },
    )
    assert js.status_code == 201, js.text
    profile = js.json()
    assert profile["region"] == "US915"
    assert (
        "decodeUplink"
        in api.get(f"/api/device-profiles/{profile['id']}").json()["payloadCodecScript"]
    )
    eui = uuid.uuid4().hex[:16]
    api.post(
        "/api/devices",
        json={"devEui": eui, "name": "d", "appKey": APP_KEY, "deviceProfileId": profile["id"]},
    )
    assert api.delete(f"/api/device-profiles/{profile['id']}").status_code == 409
    api.delete(f"/api/devices/{eui}")
    assert api.delete(f"/api/device-profiles/{profile['id']}").status_code == 204
    assert api.get(f"/api/device-profiles/{profile['id']}").status_code == 404


def test_queue_enqueue_list_flush(api: httpx.Client) -> None:
    eui = uuid.uuid4().hex[:16]
    api.post("/api/devices", json={"devEui": eui, "name": "q", "appKey": APP_KEY})
    expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    first = api.post(
        f"/api/devices/{eui}/queue",
        json={
            "fPort": 10,
            "data": base64.b64encode(b"\x01\x02").decode(),
            "confirmed": True,
            "expiresAt": expires,
        },
    )
    assert first.status_code == 201, first.text
    api.post(f"/api/devices/{eui}/queue", json={"fPort": 11, "data": "AA=="})
    items = api.get(f"/api/devices/{eui}/queue").json()
    assert [(i["fPort"], i["confirmed"], i["data"]) for i in items] == [
        (10, True, "AQI="),
        (11, False, "AA=="),
    ]
    for bad, fragment in (
        ({"fPort": 0, "data": "AA=="}, "fPort"),
        ({"fPort": 224, "data": "AA=="}, "fPort"),
        ({"fPort": 1, "data": "%%%"}, "base64"),
        ({"fPort": 1}, "either"),
        ({"fPort": 1, "data": base64.b64encode(bytes(243)).decode()}, "bytes"),
        ({"fPort": 1, "data": "AA==", "expiresAt": "2001-01-01T00:00:00Z"}, "past"),
    ):
        response = api.post(f"/api/devices/{eui}/queue", json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert fragment in response.json()["error"], response.json()
    assert api.delete(f"/api/devices/{eui}/queue").status_code == 204
    assert api.get(f"/api/devices/{eui}/queue").json() == []


def test_gateways_crud(api: httpx.Client) -> None:
    gateway_id = uuid.uuid4().hex[:16]
    created = api.post(
        "/api/gateways",
        json={
            "gatewayId": gateway_id,
            "name": "roof",
            "location": {"latitude": 52.1, "longitude": 5.1, "altitude": 12},
        },
    )
    assert created.status_code == 201, created.text
    assert api.post("/api/gateways", json={"gatewayId": gateway_id, "name": "x"}).status_code == 409
    bad = api.post(
        "/api/gateways",
        json={
            "gatewayId": uuid.uuid4().hex[:16],
            "name": "x",
            "location": {"latitude": 91, "longitude": 0},
        },
    )
    assert bad.status_code == 422
    got = api.get(f"/api/gateways/{gateway_id}").json()
    assert got["location"]["latitude"] == 52.1
    assert api.put(f"/api/gateways/{gateway_id}", json={"name": "mast"}).json()["name"] == "mast"
    assert api.delete(f"/api/gateways/{gateway_id}").status_code == 204
    assert api.get(f"/api/gateways/{gateway_id}").status_code == 404


def test_integrations_per_application(api: httpx.Client) -> None:
    app_id = api.post("/api/applications", json={"name": "integrated"}).json()["id"]
    put = api.put(
        f"/api/applications/{app_id}/integrations/http",
        json={"config": {"urls": ["http://127.0.0.1:9/"]}},
    )
    assert put.status_code == 200, put.text
    assert [i["kind"] for i in api.get(f"/api/applications/{app_id}/integrations").json()] == [
        "http"
    ]
    assert (
        api.put(
            f"/api/applications/{app_id}/integrations/carrier-pigeon", json={"config": {}}
        ).status_code
        == 422
    )
    assert api.delete(f"/api/applications/{app_id}/integrations/http").status_code == 204
    assert api.get(f"/api/applications/{app_id}/integrations/http").status_code == 404


def test_system_status_health_metrics_and_openapi(api: httpx.Client) -> None:
    status = api.get("/api/system/status").json()
    assert status["region"] == "EU868"
    backends = status["parts"]["gateways"]["backends"]
    assert [b["name"] for b in backends] == ["semtech-udp"]
    assert "integrations" in status["parts"]
    assert status["parts"]["application"]["backlog"] == 0
    assert status["parts"]["application"]["max_backlog"] == 1000  # from appliance.toml
    assert status["diskFreeBytes"] > 0
    metrics = api.get("/metrics")
    assert metrics.status_code == 200
    assert "appliance_uplinks_total" in metrics.text
    assert "appliance_devices " in metrics.text
    assert "appliance_application_backlog 0" in metrics.text
    document = api.get("/openapi.json").json()
    assert "/api/devices/{dev_eui}/queue" in document["paths"]
    assert api.get("/docs").status_code == 200


def test_cpu_temperature_is_read_from_sysfs(tmp_path: Path) -> None:
    from appliance.api.routes.system import cpu_temperature_c  # noqa: PLC0415

    zone = tmp_path / "temp"
    zone.write_text("48312\n")
    assert cpu_temperature_c(zone) == 48.3
    assert cpu_temperature_c(tmp_path / "missing") is None
    zone.write_text("garbage")
    assert cpu_temperature_c(zone) is None


def test_a_field_path_with_a_line_break_still_gives_a_one_line_error(api: httpx.Client) -> None:
    """Found by the schemathesis run: a tag whose key holds a line break and whose value is
    too long named the key as it was, so the error took two lines."""
    response = api.post(
        "/api/gateways", json={"gatewayId": "", "name": "0", "tags": {"\n": "0" * 1001}}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert "\n" not in error and error.startswith('tags."\\n": ')
