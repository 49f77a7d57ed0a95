"""The data directory's filesystem full (a 24 MiB tmpfs filled to the last byte), then space
again: the radio side keeps answering, nothing is acknowledged that was not stored, the
appliance says what is wrong, and it carries on by itself once space returns.

Needs root (to mount the tmpfs); skipped otherwise, with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.rig import Rig

DEVICES = 20
RATE = 20


@dataclass
class Observed:
    push_acks_while_full: int
    acks_while_full: int
    disk_free_while_full: int
    log: str
    accepted_after: int
    acks_after: int
    problems: dict[str, int]
    counters_match: bool
    uplinks_metric_while_full: int


def _mount_tmpfs(path: Path, size: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    path.mkdir(parents=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(bytes(65536))
                out.flush()
        except OSError:
            pass  # ENOSPC: full
    return filler


def _status(url: str, token: str) -> dict[str, object]:
    request = urllib.request.Request(
        url + "/api/system/status", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, object] = json.loads(response.read())
        return body


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    base = tmp_path_factory.mktemp("disk-full")
    mount = base / "small"
    _mount_tmpfs(mount, "24m")
    rig = Rig(mount / "data", DEVICES, gateways=1)
    try:
        appliance = rig.start(log_dir=base)  # the log must not be on the full disk
        gateways = rig.gateways
        rig.send(20, RATE)
        assert rig.wait(lambda: len(gateways.pull_resps) >= 20, 10)
        filler = _fill(mount)
        push_acks, resps, uplinks = gateways.push_acks, len(gateways.pull_resps), rig.uplinks()
        rig.send(20, RATE)
        rig.wait(lambda: False, 3)
        status = _status(appliance.url, appliance.token)
        while_full = (
            gateways.push_acks - push_acks,
            len(gateways.pull_resps) - resps,
            rig.uplinks() - uplinks,
        )
        filler.unlink()
        rig.wait(lambda: False, 1)
        resps, uplinks = len(gateways.pull_resps), rig.uplinks()
        rig.send(20, RATE)
        rig.wait(lambda: len(gateways.pull_resps) >= resps + 20, 10)
        acks_after, accepted_after = len(gateways.pull_resps) - resps, rig.uplinks() - uplinks
        problems = dict(rig.check_downlinks().problems)
        appliance.stop()
        sessions = rig.sessions()
        yield Observed(
            push_acks_while_full=while_full[0],
            acks_while_full=while_full[1],
            disk_free_while_full=int(status["diskFreeBytes"]),  # type: ignore[call-overload]
            log=appliance.log_text(),
            accepted_after=accepted_after,
            acks_after=acks_after,
            problems=problems,
            counters_match=all(
                sessions[d].f_cnt_up == rig.traffic.next_f_cnt[d] for d in range(DEVICES)
            ),
            uplinks_metric_while_full=while_full[2],
        )
    finally:
        rig.close()
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_radio_side_runs_nothing_false_is_acknowledged_and_it_recovers(
    observed: Observed,
) -> None:
    # Every PUSH_DATA was answered while the disk was full: gateways stay connected.
    assert observed.push_acks_while_full == 20
    # The API says so, and the log names the cause.
    assert observed.disk_free_while_full < 64 * 1024
    assert "database or disk is full" in observed.log
    # An ACK went out only for what was stored: every MIC and counter checks out, and after
    # recovery the stored counters are exactly the devices' own.
    assert observed.problems == {}
    assert observed.acks_while_full < 20
    assert observed.accepted_after == 20 and observed.acks_after == 20
    assert observed.counters_match


@pytest.mark.slow
def test_disk_full_is_reported_in_one_line_and_not_counted_as_accepted(
    observed: Observed,
) -> None:
    # Only uplinks whose session was durably saved count as accepted: every acknowledged one,
    # and at most a few more whose downlink then failed to be written; not the refused ones.
    assert observed.acks_while_full <= observed.uplinks_metric_while_full < 20
    assert "Traceback" not in observed.log
