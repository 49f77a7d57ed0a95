"""``kill -9`` of a real ``appliance run`` while confirmed uplinks stream in, then a restart.

What the outside world saw before the crash must still hold after it: an uplink that was
acknowledged has its counter durable (the next one the server accepts is higher), a downlink
counter that went out is never used again, and the devices carry on where they were, without
the network refusing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.system.fleet import dev_eui
from tests.faults.rig import Rig

DEVICES = 40
RATE = 300  # uplinks per second, every one confirmed: each one answered with an ACK


@pytest.mark.slow
def test_kill_minus_nine_under_load_loses_no_counter(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "data", DEVICES)
    try:
        appliance = rig.start()
        rig.send(450, RATE)  # 1.5 s of load; frames are still in flight when the kill comes
        appliance.kill()
        # The devices keep transmitting while the server is down; these frames are lost.
        rig.send(60, RATE)
        before_crash = rig.check_downlinks()
        assert before_crash.problems == {}, before_crash.problems
        acknowledged = set(before_crash.answered)
        assert len(acknowledged) > 100, "the load did not get going before the kill"

        # The durable state covers everything that left the process.
        sessions = rig.sessions()
        for device, f_cnt in acknowledged:
            assert sessions[device].f_cnt_up > f_cnt, (device, f_cnt, sessions[device].f_cnt_up)
        for device, f_cnt_down in before_crash.last_f_cnt_down.items():
            assert sessions[device].n_f_cnt_down > f_cnt_down, (device, f_cnt_down)

        # Restart; the devices go on with their own counters and are all accepted and answered
        # with downlink counters never seen before (DownlinkCheck spans both runs).
        rig.start()
        accepted_before = rig.uplinks()
        frames, _ = rig.send(400, RATE)
        assert rig.wait(lambda: rig.uplinks() >= accepted_before + 400, 30)
        assert rig.wait(lambda: len(rig.gateways.pull_resps) >= 400, 10)
        after = rig.check_downlinks()
        assert after.problems == {}, after.problems
        assert {(f.device, f.f_cnt) for f in frames} <= after.answered
        dropped = {
            name: value
            for name, value in rig.appliance.metrics().items()  # type: ignore[union-attr]
            if name.startswith("appliance_dropped_frames_total")
        }
        assert dropped == {}, dropped
        rig.appliance.stop()  # type: ignore[union-attr]
        final = rig.sessions()
        for device in range(DEVICES):
            assert final[device].f_cnt_up == rig.traffic.next_f_cnt[device]
    finally:
        rig.close()


@pytest.mark.slow
def test_event_log_after_a_kill_keeps_what_it_had_flushed(tmp_path: Path) -> None:
    """The event log (what the console and the API show) is written in batches (200 entries,
    or every ``flush_interval_s`` = 5 s), so a crash loses what was appended since the last
    write: at a trickle of traffic that includes uplinks already acknowledged (all 10 of the
    last second here). The durable path is the integration outbox
    (test_integration_outages.py). What the log had written stays, and the restart duplicates
    nothing."""
    rig = Rig(tmp_path / "data", 10)
    try:
        appliance = rig.start()
        rig.send(20, 10)  # 2 s of a quiet network, every uplink confirmed
        rig.wait(lambda: len(rig.gateways.pull_resps) >= 20, 5)
        # Within one flush interval these are written: wait until they are in the file.
        assert rig.wait(lambda: rig.written_up_events() >= 20, 15)
        rig.send(10, 10)
        rig.wait(lambda: len(rig.gateways.pull_resps) >= 30, 5)
        appliance.kill()
        check = rig.check_downlinks()
        assert check.problems == {} and len(check.answered) == 30
        rig.start()
        rig.send(10, 10)
        assert rig.wait(lambda: len(rig.gateways.pull_resps) >= 10, 10)
        rig.appliance.stop()  # type: ignore[union-attr]
        logged = rig.logged_up_events()
        first_20 = [(str(dev_eui(f.device)), f.f_cnt) for f in rig.traffic_log[:20]]
        assert set(first_20) <= logged
        last_10 = [(str(dev_eui(f.device)), f.f_cnt) for f in rig.traffic_log[-10:]]
        assert set(last_10) <= logged  # after the restart: flushed at the clean stop
        assert rig.logged_up_event_count() == len(logged)  # no (DevEUI, FCnt) twice
    finally:
        rig.close()
