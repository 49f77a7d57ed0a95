"""``python -m bench.disk_writes`` keeps running: each part in its child process, briefly."""

from __future__ import annotations

import pytest

from bench import disk_writes


@pytest.mark.parametrize("part", disk_writes.PARTS)
def test_each_part_measures_its_file(part: str) -> None:
    result = disk_writes.measure(part, 0.2, 1_000.0)
    assert result["uplinks"] == 200
    assert result["commits"] > 0 and result["cpu_s"] > 0
    assert result["sizes"]  # the file was there at the end
    assert disk_writes.line(part, result).startswith(part)
