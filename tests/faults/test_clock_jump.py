"""The wall clock jumping under a running appliance, as on a Raspberry Pi without a real-time
clock: it boots with an old time and NTP sets the right one later (and may move it again).
Receive windows are scheduled on the gateway's counter and the monotonic clock, so every
confirmed uplink is still answered once, in its RX1 window, across both jumps.

The jump is made by ``clockshift.c``, an LD_PRELOAD library built here with gcc that shifts
CLOCK_REALTIME (not CLOCK_MONOTONIC) of the appliance process only; skipped without gcc.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.faults.rig import Rig

HERE = Path(__file__).resolve().parent
BOOT_OFFSET_S = -25 * 365 * 86_400  # the clock the Pi booted with: 25 years behind
DEVICES = 10
RATE = 20  # confirmed uplinks per second


@pytest.fixture(scope="module")
def clockshift(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler to build the clock-shifting library")
    library = tmp_path_factory.mktemp("clockshift") / "libclockshift.so"
    source = HERE / "clockshift.c"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(source), "-ldl"],
        check=True,
        capture_output=True,
    )
    return library


@pytest.mark.slow
def test_wall_clock_jumps_miss_no_window_and_send_nothing_twice(
    tmp_path: Path, clockshift: Path
) -> None:
    shift = tmp_path / "shift"
    shift.write_text(str(BOOT_OFFSET_S))
    env = {**os.environ, "LD_PRELOAD": str(clockshift), "CLOCKSHIFT_FILE": str(shift)}
    rig = Rig(tmp_path / "data", DEVICES, gateways=1)
    try:
        appliance = rig.start(env=env)
        started = time.monotonic()
        jumps = [(1.0, "0"), (2.0, "-3600")]  # NTP sets the time; then moves it back an hour

        def jump() -> None:
            if jumps and time.monotonic() - started >= jumps[0][0]:
                shift.write_text(jumps.pop(0)[1])

        frames = rig.traffic.frames(3 * RATE, spacing_us=1_000_000 // RATE, confirmed_share=1.0)
        sent = rig.gateways.play(frames, RATE, tick=jump, tick_every_s=0.05)
        rig.sent.append((frames, sent))
        assert not jumps
        assert rig.wait(lambda: len(rig.gateways.pull_resps) >= len(frames), 10)
        rig.wait(lambda: False, 1.5)  # a second answer to any of them would come by now
        check = rig.check_downlinks()
        metrics = appliance.metrics()
        appliance.stop()
        log = appliance.log_text()
    finally:
        rig.close()
    # The shift took effect: the appliance logged in the year it booted with, then today's.
    years = [int(year) for year in re.findall(r"^(\d{4})-\d\d-\d\d ", log, re.MULTILINE)]
    today = time.gmtime().tm_year
    assert years[0] <= today - 24 and years[-1] == today, (years[0], years[-1])
    # Every confirmed uplink answered once, in RX1 (matched on tmst + 1 s), MIC and counter
    # right; no window missed.
    assert check.problems == {}, check.problems
    assert check.answered == {(f.device, f.f_cnt) for f in frames}
    assert max(check.ack_latency_ms) < 1000
    assert not any("window_missed" in name for name in metrics), metrics
    assert metrics.get('appliance_downlinks_total{status="OK"}') == len(frames)
