"""The budget of event log lines: every event logged up to the budget, the rest counted and
summed up, nothing uncounted; time is a fake clock."""

from __future__ import annotations

import logging

import pytest

from appliance.event_lines import EventLines
from tests.app.events import samples


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logger() -> logging.Logger:
    logger = logging.getLogger("test.event_lines")
    logger.setLevel(logging.INFO)
    return logger


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "test.event_lines"]


def test_within_the_budget_every_event_has_its_line(
    caplog: pytest.LogCaptureFixture, logger: logging.Logger
) -> None:
    clock = Clock()
    lines = EventLines(clock, lines_per_s=5, logger=logger)
    with caplog.at_level(logging.INFO, logger="test.event_lines"):
        for f_cnt in range(5):
            lines(samples.data_uplink(f_cnt=f_cnt))
        lines.flush()
    text = messages(caplog)
    assert len(text) == 5
    assert text[0].startswith("uplink dev_eui=")
    assert "f_cnt=4" in text[4]


def test_lines_above_the_budget_are_counted_and_summed_up(
    caplog: pytest.LogCaptureFixture, logger: logging.Logger
) -> None:
    clock = Clock()
    lines = EventLines(clock, lines_per_s=3, summary_interval_s=10.0, logger=logger)
    with caplog.at_level(logging.INFO, logger="test.event_lines"):
        for second in range(12):  # 12 s of 10 uplinks and one join a second
            clock.now = 1000.0 + second
            for f_cnt in range(10):
                lines(samples.data_uplink(f_cnt=second * 10 + f_cnt))
            lines(samples.join())
        lines.flush()
    text = messages(caplog)
    event_lines = [line for line in text if not line.startswith("event lines left out")]
    summaries = [line for line in text if line.startswith("event lines left out")]
    assert len(event_lines) == 12 * 3  # the budget, each second
    # Two summaries: one 10 s after the first line left out, one at flush.
    assert len(summaries) == 2
    left_out = {"uplink": 0, "join": 0}
    for summary in summaries:
        for part in summary.split(": ", 1)[1].split(" (")[0].split(", "):
            kind, count = part.split("=")
            left_out[kind] += int(count)
    # Every event is either a line or counted in a summary.
    assert left_out["uplink"] + left_out["join"] + len(event_lines) == 12 * 11
    assert left_out["join"] == 12


def test_no_budget_logs_everything_and_levels_are_kept(
    caplog: pytest.LogCaptureFixture, logger: logging.Logger
) -> None:
    lines = EventLines(Clock(), lines_per_s=0, logger=logger)
    with caplog.at_level(logging.INFO, logger="test.event_lines"):
        for f_cnt in range(500):
            lines(samples.data_uplink(f_cnt=f_cnt))
    assert len(messages(caplog)) == 500


def test_events_below_the_log_level_cost_no_budget(
    caplog: pytest.LogCaptureFixture, logger: logging.Logger
) -> None:
    logger.setLevel(logging.WARNING)
    lines = EventLines(Clock(), lines_per_s=1, logger=logger)
    with caplog.at_level(logging.WARNING, logger="test.event_lines"):
        for f_cnt in range(50):
            lines(samples.data_uplink(f_cnt=f_cnt))
        lines.flush()
    assert messages(caplog) == []
