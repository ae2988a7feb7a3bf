"""Aggregates-only mode without ROS: the hourly counts (hour boundaries, distinct IDs, unknown age
and gender, face ID -1), the open hours kept across a restart, the record's round trip, and
events_to_db writing counts records into ``face_hourly_counts``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from events_to_db_support import FakeRecord, sink_with
from face_common.faces import UNKNOWN_FACE_ID, Box, FaceEvent
from face_sink.schema import HOUR_NS, HourlyCounts, InvalidEvent, open_sqlite_store
from face_sink.spool import SpoolError
from kafka_bridge.aggregates import HOUR_CELLS, OpenHours, count_hour, hour_of
from kafka_bridge.event_record import (
    EventRecordError,
    InvalidEventRecord,
    decode_event,
    decode_record,
    encode_event,
    encode_hourly_counts,
)

HOUR = 1_764_000_000 // 3600 * HOUR_NS  # 2025-11-24T16:00:00Z
CAM = "till"


def event(
    offset_s: float, face_id: int, age: float = 30.0, gender: str = "male", index: int = 0, camera: str = CAM
) -> FaceEvent:
    return FaceEvent(
        camera, HOUR + round(offset_s * 1e9), index, face_id, age, gender, Box(1, 2, 3, 4), 0.2, False
    )


def nonzero(counts: HourlyCounts) -> dict[tuple[str, str], tuple[int, int]]:
    return {
        (c.age_bucket, c.gender): (c.sightings, c.customers)
        for c in counts.cells
        if c.sightings or c.customers
    }


def test_hour_of_is_the_utc_hour_start_and_its_last_nanosecond_stays_in_it() -> None:
    assert hour_of(HOUR) == HOUR and hour_of(HOUR + HOUR_NS - 1) == HOUR
    assert hour_of(HOUR + HOUR_NS) == HOUR + HOUR_NS


def test_count_hour_counts_sightings_per_estimate_and_each_customer_once() -> None:
    events = [
        event(1, 3, 30.0, "male"),
        event(2, 3, 31.0, "male"),
        event(3, 3, 40.0, "male"),  # one sighting in 35-44; customer 3's median age (31) is 25-34
        event(4, 4, 19.0, "female"),
        event(5, 4, math.nan, ""),  # no estimate: unknown age, unknown gender
        event(6, UNKNOWN_FACE_ID, 50.0, "female"),  # seen, nobody's: a sighting, no customer
        event(7, UNKNOWN_FACE_ID, 50.0, "female", index=1),
    ]
    counts = count_hour(CAM, HOUR, events)
    assert (counts.camera_id, counts.hour_ns) == (CAM, HOUR)
    assert [(c.age_bucket, c.gender) for c in counts.cells] == list(HOUR_CELLS)  # zeros included
    assert nonzero(counts) == {
        ("25-34", "male"): (2, 1),
        ("35-44", "male"): (1, 0),
        ("18-24", "female"): (1, 1),  # customer 4: the only age 19, the only gender female
        ("unknown", "unknown"): (1, 0),
        ("45-54", "female"): (2, 0),
    }
    assert sum(c.customers for c in counts.cells) == 2
    assert sum(c.sightings for c in counts.cells) == len(events)


def test_a_customer_without_any_estimate_counts_in_unknown() -> None:
    counts = count_hour(CAM, HOUR, [event(1, 9, math.nan, "")])
    assert nonzero(counts) == {("unknown", "unknown"): (1, 1)}


def test_an_empty_hour_has_every_cell_at_zero() -> None:
    counts = count_hour(CAM, HOUR, [])
    assert len(counts.cells) == len(HOUR_CELLS) and nonzero(counts) == {}


class Published(list):
    def __call__(self, counts: HourlyCounts) -> None:
        self.append(counts)


def test_open_hours_close_on_the_first_frame_of_a_later_hour(tmp_path: Path) -> None:
    hours, sent = OpenHours(tmp_path / "hours.sqlite"), Published()
    assert hours.add(CAM, HOUR + 5, [event(0, 3)], sent)
    assert hours.add(CAM, HOUR + HOUR_NS - 1, [event(3600 - 1e-9, 3)], sent)  # same customer, last ns
    assert hours.add("door", HOUR + HOUR_NS + 1, [event(3600, 7, camera="door")], sent)  # another camera
    assert sent == []
    assert hours.add(CAM, HOUR + HOUR_NS, [], sent)  # a frame without faces closes the hour too
    assert [(c.camera_id, c.hour_ns, nonzero(c)) for c in sent] == [(CAM, HOUR, {("25-34", "male"): (2, 1)})]
    assert [(c.camera_id, c.hour_ns, nonzero(c)) for c in hours.counts()] == [
        ("door", HOUR + HOUR_NS, {("25-34", "male"): (1, 1)}),
        (CAM, HOUR + HOUR_NS, {}),
    ]
    assert not hours.add(CAM, HOUR + 10, [event(10, 5)], sent)  # late: its hour is gone
    assert len(sent) == 1
    hours.close()


def test_a_replayed_frame_counts_once_and_an_erased_id_is_forgotten(tmp_path: Path) -> None:
    hours, sent = OpenHours(tmp_path / "hours.sqlite"), Published()
    frame = [event(1, 3), event(1, 4, 20.0, "female", index=1)]
    hours.add(CAM, frame[0].stamp_ns, frame, sent)
    hours.add(CAM, frame[0].stamp_ns, frame, sent)  # frames_in consumed it again after a crash
    assert nonzero(hours.counts()[0]) == {("25-34", "male"): (1, 1), ("18-24", "female"): (1, 1)}
    assert hours.erase(4) == 1
    assert nonzero(hours.counts()[0]) == {("25-34", "male"): (1, 1)}
    hours.close()


def test_a_frame_the_event_schema_refuses_counts_nothing(tmp_path: Path) -> None:
    hours = OpenHours(tmp_path / "hours.sqlite")
    with pytest.raises(InvalidEvent, match=r"age 150\.0 is not"):
        hours.add(CAM, HOUR, [event(0, 3), event(0, 4, 150.0, index=1)], Published())
    assert hours.counts() == []
    hours.close()


def test_a_restart_continues_the_open_hour_with_its_distinct_ids(tmp_path: Path) -> None:
    path, sent = tmp_path / "hours.sqlite", Published()
    first = OpenHours(path)
    first.add(CAM, HOUR + 10**9, [event(1, 3)], sent)
    with pytest.raises(SpoolError, match="another node"):
        OpenHours(path)  # held by the running process
    first.close()
    again = OpenHours(path)
    again.add(CAM, HOUR + 2 * 10**9, [event(2, 3), event(2, 4, index=1)], sent)  # 3 is no new customer
    again.add(CAM, HOUR + HOUR_NS, [], sent)
    assert [nonzero(c) for c in sent] == [{("25-34", "male"): (3, 2)}]
    again.close()


def test_the_counts_record_round_trips_and_holds_no_face_id() -> None:
    counts = count_hour(CAM, HOUR, [event(1, 123456789), event(2, UNKNOWN_FACE_ID, 70.0, "female")])
    key, value = encode_hourly_counts(counts)
    assert key == b"counts:till:2025-11-24T16:00:00Z"
    assert decode_record(value) == counts
    body = json.loads(value)
    assert (body["kind"], body["hour"], body["hour_ns"]) == ("hourly_counts", "2025-11-24T16:00:00Z", HOUR)
    assert b"face_id" not in value and b"123456789" not in value
    assert decode_record(encode_event(event(1, 3))[1]) == event(1, 3)  # one reader for both kinds


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        (lambda b: b.update(kind="visits"), EventRecordError, "unknown kind"),
        (lambda b: b.pop("hour"), EventRecordError, "lacks field 'hour'"),
        (lambda b: b.update(hour_ns=b["hour_ns"] + 1), InvalidEventRecord, "not the start of an hour"),
        (lambda b: b.update(hour="2025-11-24T17:00:00Z"), InvalidEventRecord, "is not hour_ns"),
        (lambda b: b["cells"][0].update(customers=-1), InvalidEventRecord, "customers -1"),
        (lambda b: b["cells"][0].update(sightings=1.0), InvalidEventRecord, "sightings must be an integer"),
        (
            lambda b: b["cells"][0].update(gender="other"),
            InvalidEventRecord,
            "unknown age buckets or genders",
        ),
        (lambda b: b["cells"][0].pop("gender"), InvalidEventRecord, "malformed cells"),
        (lambda b: b["cells"].append(b["cells"][0]), InvalidEventRecord, "given twice"),
        (lambda b: b.update(camera_id=""), InvalidEventRecord, "camera id"),
    ],
)
def test_a_bad_counts_record_is_refused_with_its_reason(change, error, reason) -> None:
    body = json.loads(encode_hourly_counts(count_hour(CAM, HOUR, [event(1, 3)]))[1])
    change(body)
    with pytest.raises(error, match=reason):
        decode_record(json.dumps(body).encode())


def test_decode_event_refuses_a_counts_record() -> None:
    with pytest.raises(EventRecordError):
        decode_event(encode_hourly_counts(count_hour(CAM, HOUR, []))[1])


def test_events_to_db_replaces_the_hour_with_each_counts_record(tmp_path: Path) -> None:
    partial = count_hour(CAM, HOUR, [event(1, 3), event(2, 4, 20.0, "female")])
    full = count_hour(CAM, HOUR, [event(1, 3), event(2, 4, 20.0, "female"), event(3, 4, 20.0, "female")])
    other = count_hour("door", HOUR, [event(1, 5, camera="door")])

    def record(offset: int, counts: HourlyCounts) -> FakeRecord:
        key, value = encode_hourly_counts(counts)
        return FakeRecord(0, offset, value, key)

    batches = [[record(0, partial), record(1, other)], [record(2, full), record(2, full)]]
    sink, consumer, _ = sink_with(tmp_path, batches)
    for _ in batches:
        sink.step()
    assert (sink.counters.received, sink.counters.written, sink.counters.dead_letters) == (4, 4, 0)
    store = open_sqlite_store(tmp_path / "events.sqlite")
    assert store.read_hourly_counts() == [other, full]
    assert store.count_events() == 0  # face_events untouched
    store.close()
    assert consumer.commits[-1][0] == {0: 3}
