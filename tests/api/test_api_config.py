"""Changing the configuration through the API: validated, written, applied at restart."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.appliance_process import running_appliance


def test_change_restart_and_come_back_with_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    with running_appliance(data_dir) as first, first.client() as api:
        current = api.get("/api/system/config").json()
        assert current["running"]["region"] == "EU868"
        assert current["restartRequired"] is False
        assert "region" in current["editable"]
        for changes, fragment in (
            ({"region": "MARS"}, "region"),
            ({"data_dir": "/tmp"}, "cannot be changed"),
            ({"udp_bind": "nonsense"}, "udp_bind"),
            ({"backends": [{"kind": "carrier-pigeon"}]}, "backends[0].kind"),
        ):
            refused = api.put("/api/system/config", json={"changes": changes})
            assert refused.status_code == 422, refused.text
            assert fragment in refused.json()["error"]
        assert not (data_dir / "appliance.toml").exists()  # refused edits write nothing
        changed = api.put(
            "/api/system/config",
            json={"changes": {"region": "US915", "mqtt_url": "mqtt://u:secret@127.0.0.1:1"}},
        )
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert body["restartRequired"] is True
        assert body["file"]["region"] == "US915"
        assert "secret" not in changed.text  # passwords are masked
        written = tomllib.loads((data_dir / "appliance.toml").read_text())
        assert written["region"] == "US915"
        assert api.post("/api/system/restart").json() == {"restarting": True}
        assert first.process.wait(timeout=30) == 75  # the exit code systemd restarts on
    # The next start reads <data dir>/appliance.toml without being told.
    with running_appliance(data_dir) as second, second.client() as api:
        assert api.get("/api/system/status").json()["region"] == "US915"
        assert api.get("/api/system/config").json()["restartRequired"] is False
