"""The drift-free scheduler: deadlines on a fixed grid, late slots skipped, no bursts."""

from __future__ import annotations

import pytest
from camera_node.pacing import RateScheduler


def run(fps: float, work_s: list[float]) -> tuple[list[float], RateScheduler]:
    """Simulate a paced loop: sleep to each deadline (if ahead), then do ``work_s[i]`` of work."""
    scheduler = RateScheduler(fps, start_s=100.0)
    now, deadlines = 100.0, []
    for work in work_s:
        deadline = scheduler.next_deadline(now)
        now = max(now, deadline)
        deadlines.append(deadline)
        now += work
    return deadlines, scheduler


@pytest.mark.parametrize("fps", [1.0, 12.0, 30.0])
@pytest.mark.parametrize("work", [0.0, 0.2, 0.9])  # as a fraction of the period
def test_deadlines_do_not_drift_with_work(fps: float, work: float) -> None:
    period = 1.0 / fps
    deadlines, scheduler = run(fps, [work * period] * 240)
    assert deadlines == pytest.approx([100.0 + k * period for k in range(240)])
    assert scheduler.skipped == 0


def test_jitter_below_one_period_is_caught_up_without_skipping() -> None:
    period = 1.0 / 12
    deadlines, scheduler = run(12.0, [0.1 * period, 1.5 * period, 0.1 * period, 0.1 * period])
    assert deadlines == pytest.approx([100.0, 100.0 + period, 100.0 + 2 * period, 100.0 + 3 * period])
    assert scheduler.skipped == 0


@pytest.mark.parametrize(("stall_periods", "skipped"), [(2.5, 2), (3.5, 3), (10.2, 10)])
def test_a_stall_skips_missed_slots_instead_of_bursting(stall_periods: float, skipped: int) -> None:
    period = 1.0 / 12
    deadlines, scheduler = run(12.0, [0.0, stall_periods * period, 0.0, 0.0])
    assert scheduler.skipped == skipped
    # After the stall the grid resumes: the next frame is due at the first slot not yet past.
    assert deadlines[2] == pytest.approx(100.0 + (1 + skipped + 1) * period)
    assert deadlines[3] - deadlines[2] == pytest.approx(period)


@pytest.mark.parametrize("fps", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_rate_is_refused(fps: float) -> None:
    with pytest.raises(ValueError, match="fps must be a positive number"):
        RateScheduler(fps, 0.0)
