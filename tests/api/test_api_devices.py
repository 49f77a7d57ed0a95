"""Devices through the API of a running appliance: enrol, read, change, activate, remove."""

from __future__ import annotations

import uuid

import httpx

APP_KEY = "00112233445566778899aabbccddeeff"
NWK_KEY = "ffeeddccbbaa99887766554433221100"


def _new_eui() -> str:
    return uuid.uuid4().hex[:16]


def test_add_device_with_defaults_creates_default_app_and_profile(api: httpx.Client) -> None:
    eui = _new_eui()
    created = api.post("/api/devices", json={"devEui": eui, "name": "meter", "appKey": APP_KEY})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["devEui"] == eui
    assert body["deviceProfileName"] == "default EU868 LoRaWAN 1.0.3"
    app = api.get(f"/api/applications/{body['applicationId']}").json()
    assert app["name"] == "default"
    # A second device reuses the same defaults rather than making new ones.
    other = api.post(
        "/api/devices", json={"devEui": _new_eui(), "name": "two", "appKey": APP_KEY}
    ).json()
    assert other["applicationId"] == body["applicationId"]
    assert other["deviceProfileId"] == body["deviceProfileId"]
    assert api.get(f"/api/devices/{eui}/keys").json() == {"appKey": APP_KEY, "nwkKey": None}


def test_a_1_1_device_needs_both_root_keys(api: httpx.Client) -> None:
    eui = _new_eui()
    refused = api.post(
        "/api/devices",
        json={"devEui": eui, "name": "v11", "macVersion": "1.1.0", "appKey": APP_KEY},
    )
    assert refused.status_code == 422
    assert "nwkKey" in refused.json()["error"]
    accepted = api.post(
        "/api/devices",
        json={
            "devEui": eui,
            "name": "v11",
            "macVersion": "1.1.0",
            "appKey": APP_KEY,
            "nwkKey": NWK_KEY,
        },
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["macVersion"] == "1.1.0"


def test_duplicate_device_is_a_conflict(api: httpx.Client) -> None:
    eui = _new_eui()
    body = {"devEui": eui, "name": "dup", "appKey": APP_KEY}
    assert api.post("/api/devices", json=body).status_code == 201
    again = api.post("/api/devices", json=body)
    assert again.status_code == 409
    assert eui in again.json()["error"]


def test_update_search_and_delete(api: httpx.Client) -> None:
    eui = _new_eui()
    created = api.post(
        "/api/devices", json={"devEui": eui, "name": "before-xyz", "appKey": APP_KEY}
    ).json()
    changed = api.put(
        f"/api/devices/{eui}",
        json={
            "name": "after-xyz",
            "description": "on the roof",
            "tags": {"floor": "3"},
            "variables": {"k": "v"},
            "enabled": False,
        },
    )
    assert changed.status_code == 200, changed.text
    got = api.get(f"/api/devices/{eui}").json()
    assert got["name"] == "after-xyz"
    assert got["description"] == "on the roof"
    assert got["tags"] == {"floor": "3"}
    assert got["enabled"] is False
    assert got["applicationId"] == created["applicationId"]
    found = api.get("/api/devices", params={"search": "after-xyz"}).json()
    assert [d["devEui"] for d in found["result"]] == [eui]
    assert api.delete(f"/api/devices/{eui}").status_code == 204
    assert api.get(f"/api/devices/{eui}").status_code == 404
    assert api.delete(f"/api/devices/{eui}").status_code == 404


def test_abp_activation_and_session(api: httpx.Client) -> None:
    eui = _new_eui()
    profile = api.post(
        "/api/device-profiles",
        json={"name": f"abp-{eui}", "region": "EU868", "supportsOtaa": False},
    )
    assert profile.status_code == 201, profile.text
    device = api.post(
        "/api/devices",
        json={"devEui": eui, "name": "abp", "deviceProfileId": profile.json()["id"]},
    )
    assert device.status_code == 201, device.text
    assert api.get(f"/api/devices/{eui}/activation").status_code == 404
    activated = api.post(
        f"/api/devices/{eui}/activate",
        json={"devAddr": "26011234", "nwkSKey": NWK_KEY, "appSKey": APP_KEY, "fCntUp": 10},
    )
    assert activated.status_code == 200, activated.text
    session = api.get(f"/api/devices/{eui}/activation").json()
    assert session["devAddr"] == "26011234"
    assert session["fCntUp"] == 10
    assert session["appSKey"] == APP_KEY  # admin token sees session keys
    assert api.get(f"/api/devices/{eui}").json()["devAddr"] == "26011234"
    missing_key = api.post(
        f"/api/devices/{eui}/activate", json={"devAddr": "26011234", "appSKey": APP_KEY}
    )
    assert missing_key.status_code == 422
    assert "nwkSKey" in missing_key.json()["error"]
    assert api.delete(f"/api/devices/{eui}/activation").status_code == 204
    assert api.get(f"/api/devices/{eui}/activation").status_code == 404
    assert api.delete(f"/api/devices/{eui}/dev-nonces").status_code == 204


def test_bad_input_is_a_one_line_4xx(api: httpx.Client) -> None:
    cases = [
        ("post", "/api/devices", {"devEui": "nothex!!nothex!!", "name": "x", "appKey": APP_KEY}),
        ("post", "/api/devices", {"devEui": "0102030405060708", "name": "", "appKey": APP_KEY}),
        ("post", "/api/devices", {"devEui": "0102030405060708", "name": "x", "appKey": "12"}),
        ("post", "/api/devices", {"devEui": "0102030405060708", "name": "x", "bogus": 1}),
        ("post", "/api/devices", ["not", "an", "object"]),
        ("get", "/api/devices/not-an-eui", None),
        ("get", "/api/devices?limit=0", None),
        ("get", "/api/devices?applicationId=nope", None),
        ("put", "/api/devices/0000000000000bad", {"name": "x"}),
    ]
    for method, path, body in cases:
        response = api.request(method, path, json=body)
        assert 400 <= response.status_code < 500, (path, body, response.text)
        error = response.json()["error"]
        assert "\n" not in error and error, (path, error)
    raw = api.post(
        "/api/devices", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert raw.status_code == 422
