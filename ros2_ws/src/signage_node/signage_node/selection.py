"""Who the screen talks to, and how long an offer stays (no ROS).

The person in front is the largest face box: the one nearest the screen. Offers must not flicker
as people pass, or as a person's estimates settle, so :class:`Debouncer` holds an offer for a
minimum time, measured in message stamps (capture times), not the wall clock: a replayed or
delayed stream behaves as it did live.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from face_common.faces import Face

NS_PER_S = 1_000_000_000
Choice = TypeVar("Choice")


def person_in_front(faces: Sequence[Face]) -> Face | None:
    """The face with the largest box (the first of equals); None for a frame without faces."""
    return max(faces, key=lambda face: face.box.w * face.box.h, default=None)


class Debouncer(Generic[Choice]):
    """What the screen shows, from each frame's choice (None: nobody in front).

    A shown choice stays at least ``min_display_s`` although the choice changes; when nobody has
    been in front for ``clear_after_s`` the screen clears, and the next choice shows at once.
    Stamps going back (a looped recording) restart the clocks rather than freezing the screen.
    """

    def __init__(self, min_display_s: float, clear_after_s: float) -> None:
        if min_display_s < 0 or clear_after_s < 0:
            raise ValueError(f"times must not be negative, got {min_display_s} s and {clear_after_s} s")
        self._min_display_ns = round(min_display_s * NS_PER_S)
        self._clear_after_ns = round(clear_after_s * NS_PER_S)
        self.shown: Choice | None = None
        self._shown_since_ns = 0
        self._seen_ns = 0
        """Stamp of the last frame with somebody in front."""
        self._last_ns: int | None = None

    def update(self, stamp_ns: int, choice: Choice | None) -> bool:
        """Take one frame's choice; True when :attr:`shown` changed."""
        if self._last_ns is not None and stamp_ns < self._last_ns:
            self._shown_since_ns = self._seen_ns = stamp_ns
        self._last_ns = stamp_ns
        if choice is None:
            if self.shown is None or stamp_ns - self._seen_ns < self._clear_after_ns:
                return False
            self.shown = None
            return True
        self._seen_ns = stamp_ns
        if choice == self.shown:
            return False
        if self.shown is not None and stamp_ns - self._shown_since_ns < self._min_display_ns:
            return False
        self.shown = choice
        self._shown_since_ns = stamp_ns
        return True
