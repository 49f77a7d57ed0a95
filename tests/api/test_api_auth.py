"""Who may do what: API key scopes, users, password login with a failure limit."""

from __future__ import annotations

import stat
import uuid

import httpx

from tests.appliance_process import Running

APP_KEY = "00112233445566778899aabbccddeeff"


def test_admin_key_file_is_private(appliance: Running) -> None:
    mode = (appliance.data_dir / "admin.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_missing_and_wrong_tokens_are_refused(appliance: Running) -> None:
    with appliance.client(token="") as anonymous:
        response = anonymous.get("/api/devices")
        assert response.status_code == 401
        assert "token" in response.json()["error"]
        assert anonymous.get("/health").status_code == 200
    with appliance.client(token="lwa_wrong") as wrong:
        assert wrong.get("/api/devices").status_code == 401


def test_read_only_key_reads_but_cannot_write(api: httpx.Client, appliance: Running) -> None:
    created = api.post("/api/api-keys", json={"name": "viewer", "scope": "read-only"})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    with appliance.client(token=token) as viewer:
        assert viewer.get("/api/devices").status_code == 200
        refused = viewer.post(
            "/api/devices", json={"devEui": uuid.uuid4().hex[:16], "name": "x", "appKey": APP_KEY}
        )
        assert refused.status_code == 403
        assert "read-only" in refused.json()["error"]
    # The key is listed without its token, and can be revoked.
    listed = api.get("/api/api-keys").json()
    assert any(k["name"] == "viewer" and "token" not in k for k in listed)
    assert api.delete(f"/api/api-keys/{created.json()['id']}").status_code == 204
    with appliance.client(token=token) as revoked:
        assert revoked.get("/api/devices").status_code == 401


def test_application_key_sees_only_its_application(api: httpx.Client, appliance: Running) -> None:
    mine = api.post("/api/applications", json={"name": "mine"}).json()
    other = api.post("/api/applications", json={"name": "other"}).json()
    eui_mine, eui_other = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
    for eui, app in ((eui_mine, mine), (eui_other, other)):
        response = api.post(
            "/api/devices",
            json={"devEui": eui, "name": eui, "appKey": APP_KEY, "applicationId": app["id"]},
        )
        assert response.status_code == 201, response.text
    key = api.post(
        "/api/api-keys",
        json={"name": "app", "scope": "application", "applicationId": mine["id"]},
    ).json()
    with appliance.client(token=key["token"]) as scoped:
        devices = scoped.get("/api/devices").json()["result"]
        assert [d["devEui"] for d in devices] == [eui_mine]
        assert scoped.get(f"/api/devices/{eui_other}").status_code == 404
        assert scoped.get(f"/api/applications/{other['id']}").status_code == 404
        assert scoped.get("/api/api-keys").status_code == 403
        queued = scoped.post(f"/api/devices/{eui_mine}/queue", json={"fPort": 1, "data": "AQI="})
        assert queued.status_code == 201, queued.text


def test_users_log_in_and_failures_are_limited(api: httpx.Client, appliance: Running) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    created = api.post("/api/users", json={"email": email, "password": "correct horse"})
    assert created.status_code == 201, created.text
    assert (
        api.post("/api/users", json={"email": email, "password": "another one"}).status_code == 409
    )
    short = api.post("/api/users", json={"email": "x@y.z", "password": "short"})
    assert short.status_code == 422
    with appliance.client(token="") as anonymous:
        login = anonymous.post("/api/login", json={"email": email, "password": "correct horse"})
        assert login.status_code == 200, login.text
        session = login.json()["token"]
        for _ in range(5):
            bad = anonymous.post("/api/login", json={"email": email, "password": "wrong!!!"})
            assert bad.status_code == 401
        limited = anonymous.post("/api/login", json={"email": email, "password": "correct horse"})
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
    # A non-admin user's session is read-only.
    with appliance.client(token=session) as user:
        assert user.get("/api/devices").status_code == 200
        assert user.post("/api/applications", json={"name": "nope"}).status_code == 403


def test_read_only_tokens_do_not_see_integration_secrets(
    api: httpx.Client, appliance: Running
) -> None:
    app_id = api.post("/api/applications", json={"name": "secretive"}).json()["id"]
    config = {
        "url": "http://127.0.0.1:9/",
        "headers": {"Authorization": "Bearer s3cr3t"},
        "token": "s3cr3t",
    }
    stored = api.put(f"/api/applications/{app_id}/integrations/influxdb", json={"config": config})
    if stored.status_code != 200:  # the kind's own validation may want other keys
        stored = api.put(
            f"/api/applications/{app_id}/integrations/http",
            json={"config": {"urls": ["http://u:s3cr3t@127.0.0.1:9/"]}},
        )
    assert stored.status_code == 200, stored.text
    kind = stored.json()["kind"]
    viewer = api.post("/api/api-keys", json={"name": "v2", "scope": "read-only"}).json()["token"]
    with appliance.client(token=viewer) as client:
        shown = client.get(f"/api/applications/{app_id}/integrations/{kind}")
        assert shown.status_code == 200
        assert "s3cr3t" not in shown.text
