"""Drift-free frame pacing.

Each frame is due at ``start + k / fps``; deadlines never depend on how long the previous frame
took, so the mean rate stays exact even when per-frame work (decode, resize, publish) varies.
When the loop falls behind by more than one period (a slow source, a stalled machine), the missed
slots are skipped rather than published in a burst, because subscribers of a camera want the
current scene, not a backlog.
"""

from __future__ import annotations

import math


class RateScheduler:
    """Deadlines on a fixed grid of ``1 / fps`` seconds, in the caller's clock (e.g. monotonic)."""

    def __init__(self, fps: float, start_s: float) -> None:
        if not math.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps}")
        self.period_s = 1.0 / fps
        self._start_s = start_s
        self._index = 0
        self.skipped = 0
        """Slots dropped because the caller was more than one period late."""

    def next_deadline(self, now_s: float) -> float:
        """When the next frame is due; in the past (publish at once) if the caller is slightly late."""
        deadline = self._start_s + self._index * self.period_s
        if now_s - deadline > self.period_s:
            caught_up = math.ceil((now_s - self._start_s) / self.period_s)
            self.skipped += caught_up - self._index
            self._index = caught_up
            deadline = self._start_s + self._index * self.period_s
        self._index += 1
        return deadline
