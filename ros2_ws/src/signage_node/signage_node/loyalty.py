"""Loyalty: how many times a face ID visited the store before, from the event store (no ROS).

The sink keeps a visits table per face ID and camera (``face_sink``); a trip past two cameras is
two rows there, so they are merged into store visits first (``face_analytics.visit_stats``, as the
repeat-customer report counts them). The store has no count-by-face query, so the signage node
reads the whole table now and then (``visits_refresh_s``) and answers from that; a visit recorded
since the last read can only be the current one, which is not counted anyway.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable

from face_analytics.visit_stats import store_visits
from face_common.faces import UNKNOWN_FACE_ID
from face_sink.schema import EventStore
from face_sink.visits import Visit

NS_PER_S = 1_000_000_000


class VisitCounts:
    """Earlier store visits per face ID, as of the last :meth:`load` of the visits table."""

    def __init__(self, visit_gap_s: float) -> None:
        self._visit_gap_s = visit_gap_s
        self._gap_ns = round(visit_gap_s * NS_PER_S)
        self._trip_ends: dict[int, list[int]] | None = None

    def load(self, visits: Iterable[Visit]) -> None:
        trip_ends: dict[int, list[int]] = defaultdict(list)
        for trip in store_visits(visits, self._visit_gap_s):
            trip_ends[trip.face_id].append(trip.end_ns)
        self._trip_ends = {face_id: sorted(ends) for face_id, ends in trip_ends.items()}

    def earlier_visits(self, face_id: int, stamp_ns: int) -> int | None:
        """Store visits of ``face_id`` that ended over a visit gap before ``stamp_ns`` (so not the
        current one); None for an unknown face ID or before the table was first read."""
        if face_id == UNKNOWN_FACE_ID or self._trip_ends is None:
            return None
        return bisect_left(self._trip_ends.get(face_id, []), stamp_ns - self._gap_ns)


class VisitsTable:
    """The event store's visits table, opened when first read and again after a failed read."""

    def __init__(self, open_store: Callable[[], EventStore]) -> None:
        self._open_store = open_store
        self._store: EventStore | None = None

    def read(self) -> list[Visit]:
        """Every visit; raises what opening or reading raises (a missing file, a server down)."""
        if self._store is None:
            self._store = self._open_store()
        try:
            return self._store.read_visits()
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
