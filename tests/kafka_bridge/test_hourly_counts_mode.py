"""Aggregates-only mode end to end: events_out (``payload:=hourly_counts``, a real node process)
fed faces over two hours, stopped and restarted within the second, on a real broker (tansu); the
topic holds count records only, no face ID; events_to_db (the real command) puts them in MariaDB's
``face_hourly_counts`` with the right numbers."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from events_to_db_support import EventsToDb, unique
from face_common.faces import UNKNOWN_FACE_ID, Box, Face, FrameFaces, FrameRef
from face_common.ros_msgs import FacesMsg, frame_faces_to_msg
from face_sink.schema import HOUR_NS, EventStore, HourlyCounts
from kafka_bridge.event_record import decode_record
from kafka_bridge.local_broker import LocalBroker
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_processes import RosProcesses, exit_counters, status_values, stop, wait_until
from test_events_out_spool import read_topic

TIMEOUT_S = 30.0
HOUR = 490_000 * HOUR_NS  # 2025-11-24T16:00:00Z
SECOND = 10**9
A, B, C, D, LATE = 700_001, 700_002, 700_003, 700_004, 700_009
"""Face IDs no count can equal by chance: none of them may appear on the topic."""


def frame(camera: str, stamp_ns: int, *faces: tuple[int, float, str]) -> FacesMsg:
    """A frame with faces ``(face ID, age, gender)``."""
    return frame_faces_to_msg(
        FrameFaces(
            FrameRef(camera, stamp_ns),
            [
                Face(i, Box(10 + 60 * i, 20, 50, 50), 0.9, face_id=face_id, age=age, gender=gender)
                for i, (face_id, age, gender) in enumerate(faces)
            ],
        )
    )


def counted(statuses: list, wanted: int, counter: str = "counted") -> bool:
    return any(int(status_values(s).get(counter, 0)) >= wanted for s in list(statuses))


def run_events_out(
    ros_graph: RosProcesses,
    publisher,
    camera: str,
    params: dict,
    frames: list,
    faces: int,
    late: int = 0,
    bad: int = 0,
) -> str:
    """Start events_out, publish ``frames``, wait until it counted ``faces``, ``late`` and ``bad``
    frames, stop it; its log."""
    health = ros_graph.diagnostics(f"/{camera}/events_out")
    node = ros_graph.start("kafka_bridge", "events_out", namespace=camera, **params)
    assert wait_until(lambda: publisher.get_subscription_count() >= 1, TIMEOUT_S)
    for message in frames:
        publisher.publish(message)
    done = wait_until(
        lambda: all(
            counted(health, n, name)
            for n, name in ((faces, "counted"), (late, "late"), (bad, "bad_messages"))
        ),
        TIMEOUT_S,
    )
    log = stop(node)
    assert done, log
    assert wait_until(lambda: publisher.get_subscription_count() == 0, TIMEOUT_S)
    return log


def cells(counts: HourlyCounts) -> dict[tuple[str, str], tuple[int, int]]:
    return {
        (c.age_bucket, c.gender): (c.sightings, c.customers)
        for c in counts.cells
        if c.sightings or c.customers
    }


def test_hourly_counts_mode_sends_only_counts_and_events_to_db_stores_them(
    ros_graph: RosProcesses, kafka_broker: LocalBroker, mariadb: str, mysql_store: EventStore, tmp_path: Path
) -> None:
    camera, topic = unique("cam").replace("-", "_"), unique("events")
    params = {
        "bootstrap_servers": kafka_broker.bootstrap,
        "topic": topic,
        "payload": "hourly_counts",
        "spool_path": tmp_path / "events_out.sqlite",
    }
    faces = ros_graph.node.create_publisher(
        FacesMsg, f"/{camera}/faces_attributed", QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    )
    closing = frame(camera, HOUR + HOUR_NS, (A, 31.0, "male"), (C, math.nan, ""))  # the first hour
    before_restart = [
        frame(
            camera, HOUR + SECOND, (A, 30.0, "male"), (B, 20.0, "female"), (UNKNOWN_FACE_ID, 50.0, "female")
        ),
        frame(camera, HOUR + 2 * SECOND, (A, 32.0, "male"), (UNKNOWN_FACE_ID, math.nan, "")),
        frame(camera, HOUR + 3 * SECOND, (B, 150.0, "female")),  # no event holds it: dropped, counted
        closing,
    ]
    after_restart = [
        frame(camera, HOUR + HOUR_NS + SECOND, (C, 60.0, "female"), (D, 40.0, "male")),
        closing,  # consumed again after the restart: counted once
        frame(camera, HOUR + 4 * SECOND, (LATE, 25.0, "male")),  # the first hour is sent: late
    ]
    log = run_events_out(ros_graph, faces, camera, params, before_restart, faces=7, bad=1)
    assert exit_counters(log)["delivered"] == 2, log  # the closed first hour, the open one at the stop
    log = run_events_out(ros_graph, faces, camera, params, after_restart, faces=4, late=1)
    assert "continuing the open hours of cameras" in log
    assert exit_counters(log)["delivered"] == 1, log  # the open hour again, fuller

    records = read_topic(kafka_broker.bootstrap, topic, wanted=3)
    first, second = f"counts:{camera}:2025-11-24T16:00:00Z", f"counts:{camera}:2025-11-24T17:00:00Z"
    assert Counter(r.key().decode() for r in records) == {first: 1, second: 2}
    for record in records:  # numbers only: no face ID, no event
        assert b"face_id" not in record.value() and isinstance(decode_record(record.value()), HourlyCounts)
        assert not [i for i in (A, B, C, D, LATE) if str(i).encode() in record.value()]
    partial, full = (decode_record(r.value()) for r in records if r.key().decode() == second)
    assert sum(c.sightings for c in partial.cells) == 2 and sum(c.sightings for c in full.cells) == 4

    sink = EventsToDb(tmp_path / "events_to_db.log", kafka_broker.bootstrap, topic, unique("g"), mariadb)
    sink.start()
    try:

        def stored() -> list[HourlyCounts]:
            return [h for h in mysql_store.read_hourly_counts() if h.camera_id == camera]

        assert wait_until(
            lambda: len(stored()) == 2 and sum(c.sightings for c in stored()[1].cells) == 4, 60.0
        )
        stats = sink.stop()
    finally:
        sink.kill()
    assert (stats["received"], stats["written"], stats["dead_letters"]) == (3, 3, 0), sink.log()
    hour_1, hour_2 = stored()
    assert (hour_1.hour_ns, hour_2.hour_ns) == (HOUR, HOUR + HOUR_NS)
    assert cells(hour_1) == {
        ("25-34", "male"): (2, 1),  # face A, twice
        ("18-24", "female"): (1, 1),  # face B
        ("45-54", "female"): (1, 0),  # nobody's face: a sighting, no customer
        ("unknown", "unknown"): (1, 0),
    }
    assert cells(hour_2) == {
        ("25-34", "male"): (1, 1),  # face A again: a customer of this hour too
        ("unknown", "unknown"): (1, 0),  # face C before the restart, no estimate yet ...
        ("55-64", "female"): (1, 1),  # ... and after: still one customer
        ("35-44", "male"): (1, 1),  # face D
    }
    assert all(e.camera_id != camera for e in mysql_store.read_events())  # face_events untouched
