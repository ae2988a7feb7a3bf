"""A node's counters and the health they tell, without ROS: the OK/WARN/ERROR policy of every node.

A node counts what it did (``frames``, ``faces``) and what went wrong (``bad_messages``,
``dropped``). Its health is ERROR while a fault stands (the sink's database, a producer's broker
unreachable), WARN when a problem counter rose since the last report (a bad message is survived,
but someone should look), else OK. ``graph_node`` publishes each report on ``/diagnostics``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum


class Level(IntEnum):
    """The levels of ``diagnostic_msgs/DiagnosticStatus`` (same values)."""

    OK = 0
    WARN = 1
    ERROR = 2


@dataclass(frozen=True)
class HealthReport:
    level: Level
    message: str
    values: dict[str, int | float | str]


class NodeHealth:
    """Counters (``count``), gauges (``set``) and a standing fault, reported as one ``HealthReport``."""

    def __init__(self, counters: Iterable[str], problems: Iterable[str] = ()) -> None:
        self._problems = tuple(problems)
        self.values: dict[str, int | float | str] = dict.fromkeys([*counters, *self._problems], 0)
        self._reported = dict.fromkeys(self._problems, 0)
        self.fault: str | None = None

    def count(self, name: str, n: int = 1) -> int:
        """Add ``n`` to counter ``name``; returns its new total (for a log line)."""
        self.values[name] += n
        return self.values[name]

    def set(self, name: str, value: int | float | str) -> None:
        self.values[name] = value

    def __getitem__(self, name: str) -> int | float | str:
        return self.values[name]

    def report(self) -> HealthReport:
        """The health since the previous report: the fault, else the problems that rose, else OK."""
        rose = {p: self.values[p] - self._reported[p] for p in self._problems}
        self._reported = {p: self.values[p] for p in self._problems}
        rose = {p: n for p, n in rose.items() if n > 0}
        if self.fault is not None:
            return HealthReport(Level.ERROR, self.fault, dict(self.values))
        if rose:
            return HealthReport(
                Level.WARN, ", ".join(f"{p} +{n}" for p, n in rose.items()), dict(self.values)
            )
        return HealthReport(Level.OK, "ok", dict(self.values))

    def summary(self) -> str:
        """``name=value`` for every counter and gauge, in declaration order: the node's exit line."""
        return " ".join(f"{name}={value}" for name, value in self.values.items())


class ProblemLog:
    """When to log a problem: at most once per ``period_s`` per counter and *kind*, so a burst of
    one bad input does not flood the log while a different bad input is still seen at once.

    The kind is the message with its numbers blanked (``frame 12: step 100 < 3840`` and ``frame
    13: step 90 < 3840`` are one kind). A counter keeps at most ``max_kinds`` kinds; past that,
    its further kinds share one slot, so the log stays bounded whatever the input.
    """

    def __init__(self, period_s: float, max_kinds: int = 16) -> None:
        self.period_s = period_s
        self.max_kinds = max_kinds
        self._logged_at: dict[str, dict[str, float]] = {}

    def due(self, counter: str, what: str, now: float) -> bool:
        """True when ``what`` on ``counter`` should be logged at ``now`` (seconds); records it."""
        kinds = self._logged_at.setdefault(counter, {})
        kind = _DIGITS.sub("#", what)
        if kind not in kinds and len(kinds) >= self.max_kinds:
            kind = "*"
        if now - kinds.get(kind, -math.inf) < self.period_s:
            return False
        kinds[kind] = now
        return True


_DIGITS = re.compile(r"\d+")
