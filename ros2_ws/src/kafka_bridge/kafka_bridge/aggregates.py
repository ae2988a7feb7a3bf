"""Aggregates-only mode of ``events_out`` (ROS-free): per camera and UTC hour, how many faces were
seen and how many distinct customers, per age bucket and gender, so that no face ID leaves the server.

Distinct customers can only be counted where the face IDs are, so each camera's open hour is kept
here, on the server, in a small SQLite file (:class:`OpenHours`) that is never sent: a restarted
node continues its hour's counts (the distinct IDs included) instead of starting them afresh, and
what it holds is at most one hour of events per camera, forgotten when the hour closes.

Hours close by capture stamps, not by the server's clock (a backlog or a recording replays old
hours): the first frame of a later hour closes the camera's open hour. The closed hour's counts go
to the durable outbox before its events are forgotten, so a crash between the two sends the same
counts again: harmless, a camera's hour is one record keyed ``counts:<camera>:<hour>`` that
replaces the earlier one. A frame of an hour before the open one (a replay after a restart) is
late: its hour is closed and its IDs gone, so it is not counted.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from face_common.faces import Box, FaceEvent
from face_common.owned_sqlite import immediate_transaction, open_owned
from face_sink.schema import HOUR_NS, HourCell, HourlyCounts, validate_event
from face_sink.spool import SpoolError
from face_sink.stats import AGE_BUCKET_LABELS, GENDER_CLASSES, UNKNOWN_AGE, age_bucket, customer_profiles
from face_sink.visits import UNKNOWN_GENDER

NO_BOX = Box(0, 0, 0, 0)
"""The open hours keep no boxes: the counts do not read them."""
HOUR_CELLS = tuple(
    (bucket, gender) for bucket in (*AGE_BUCKET_LABELS, UNKNOWN_AGE) for gender in GENDER_CLASSES
)
"""Every (age bucket, gender) of an hour: zeros are sent too, so an hour in which the camera ran
and saw nobody is told apart from an hour without data."""


def hour_of(stamp_ns: int) -> int:
    """The start of the UTC hour of a capture stamp."""
    return stamp_ns - stamp_ns % HOUR_NS


def count_hour(camera_id: str, hour_ns: int, events: Sequence[FaceEvent]) -> HourlyCounts:
    """The hour's counts: each sighting in the cell of its own estimates (no age or gender:
    ``unknown``); each customer (a face ID; -1 is nobody's) once, in the cell of the median of the
    hour's age estimates and the majority of its gender estimates, as ``face_report`` counts
    customers, so the cells' customers add up to the hour's distinct customers."""
    sightings = Counter((age_bucket(e.age), e.gender or UNKNOWN_GENDER) for e in events)
    customers = Counter((p.age_bucket, p.gender) for p in customer_profiles(events, 0.0).values())
    cells = tuple(HourCell(b, g, sightings[b, g], customers[b, g]) for b, g in HOUR_CELLS)
    return HourlyCounts(camera_id, hour_ns, cells)


class OpenHours:
    """Each camera's open hour on disk: which hour it is, and its events (only what the counts
    read). One commit, fsynced, per frame; the file is locked by its process like a spool."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._connection = open_owned(self.path)
            try:
                with immediate_transaction(self._connection):
                    self._connection.execute(
                        "CREATE TABLE IF NOT EXISTS open_hours "
                        "(camera_id TEXT PRIMARY KEY, hour_ns INTEGER NOT NULL)"
                    )
                    self._connection.execute(
                        "CREATE TABLE IF NOT EXISTS hour_events (camera_id TEXT NOT NULL, "
                        "stamp_ns INTEGER NOT NULL, face_index INTEGER NOT NULL, face_id INTEGER NOT NULL, "
                        "age REAL, gender TEXT NOT NULL, PRIMARY KEY (camera_id, stamp_ns, face_index))"
                    )
            except BaseException:
                self._connection.close()
                raise
        except sqlite3.Error as err:
            raise SpoolError(f"cannot use {self.path}: {err} (is another node using it?)") from None

    def add(
        self,
        camera_id: str,
        stamp_ns: int,
        events: Sequence[FaceEvent],
        publish: Callable[[HourlyCounts], object],
    ) -> bool:
        """Count one frame's events (none: the frame still closes an earlier hour); False for a
        late frame, not counted. A frame of a later hour first hands the open hour's final counts
        to ``publish``, and only then are that hour's events forgotten. A frame seen before (the
        same camera, stamp and face index) counts once. :class:`~face_sink.schema.InvalidEvent`,
        nothing counted, for a frame with a value the event schema refuses: the same check as
        every event writer's, so no hour holds what an event could not."""
        for event in events:
            validate_event(event)
        hour = hour_of(stamp_ns)
        open_hour = self._open_hour(camera_id)
        if open_hour is not None and hour < open_hour:
            return False
        if open_hour is not None and hour > open_hour:
            publish(self._count(camera_id, open_hour))
        with immediate_transaction(self._connection):
            if open_hour != hour:
                self._connection.execute("DELETE FROM hour_events WHERE camera_id = ?", (camera_id,))
                self._connection.execute("REPLACE INTO open_hours VALUES (?, ?)", (camera_id, hour))
            self._connection.executemany(
                "INSERT INTO hour_events VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    (
                        camera_id,
                        stamp_ns,
                        e.face_index,
                        e.face_id,
                        None if math.isnan(e.age) else e.age,
                        e.gender,
                    )
                    for e in events
                ],
            )
        return True

    def counts(self) -> list[HourlyCounts]:
        """The counts so far of every camera's open hour (sent at shutdown; the full hour replaces them)."""
        hours = self._connection.execute("SELECT camera_id, hour_ns FROM open_hours ORDER BY camera_id")
        return [self._count(camera_id, hour_ns) for camera_id, hour_ns in hours.fetchall()]

    def erase(self, face_id: int) -> int:
        """Forget a face ID's sightings (right to erasure); returns how many there were."""
        with immediate_transaction(self._connection):
            cursor = self._connection.execute("DELETE FROM hour_events WHERE face_id = ?", (face_id,))
        return cursor.rowcount

    def close(self) -> None:
        self._connection.close()

    def _open_hour(self, camera_id: str) -> int | None:
        row = self._connection.execute(
            "SELECT hour_ns FROM open_hours WHERE camera_id = ?", (camera_id,)
        ).fetchone()
        return None if row is None else row[0]

    def _count(self, camera_id: str, hour_ns: int) -> HourlyCounts:
        rows = self._connection.execute(
            "SELECT stamp_ns, face_index, face_id, age, gender FROM hour_events WHERE camera_id = ?",
            (camera_id,),
        )
        events = [
            FaceEvent(
                camera_id,
                stamp,
                index,
                face_id,
                math.nan if age is None else age,
                gender,
                NO_BOX,
                math.nan,
                False,
            )
            for stamp, index, face_id, age, gender in rows.fetchall()
        ]
        return count_hour(camera_id, hour_ns, events)
