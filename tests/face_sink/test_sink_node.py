"""The face_sink node as a real process: FaceArray messages over DDS in, rows in SQLite out.

Each test runs the installed ``face_sink`` entry point in a ROS domain of its own and reads the
SQLite file the node writes, as the report would, and the node's ``/diagnostics`` and counters.
"""

from __future__ import annotations

import math
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
from face_common.faces import Box, Face, FaceEvent, FrameFaces, FrameRef
from face_common.health import Level
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_to_msg
from face_sink.schema import open_sqlite_store
from rclpy.publisher import Publisher
from ros_processes import (
    RosProcesses,
    exit_counters,
    finish,
    levels,
    reported,
    status_values,
    stop,
    wait_until,
)

CAMERA = "door"
NODE = f"/{CAMERA}/face_sink"
T0_S = 1_700_000_000
TIMEOUT_S = 30.0


def attributed_frame(sec: int, faces: int = 2, camera_id: str = CAMERA) -> FacesMsg:
    crop = np.full((28, 28, 3), 120, dtype=np.uint8)
    return frame_faces_to_msg(
        FrameFaces(
            FrameRef(camera_id, (T0_S + sec) * 10**9),
            [
                Face(
                    index=i,
                    box=Box(10 + 50 * i, 10, 20, 20),
                    score=1.0,
                    crop=crop,
                    crop_box=Box(6 + 50 * i, 6, 28, 28),
                    face_id=1 + i,
                    distance=0.3,
                    new_face=sec == 0,
                    age=30.0 + i,
                    gender="female" if i else "male",
                    p_female=0.9 if i else 0.1,
                )
                for i in range(faces)
            ],
        )
    )


def start_sink(ros_graph: RosProcesses, params: dict[str, object]) -> tuple[subprocess.Popen, Publisher]:
    """The sink, and a publisher of its ``faces_attributed`` that it has subscribed to."""
    publisher = ros_graph.node.create_publisher(FacesMsg, f"/{CAMERA}/faces_attributed", FACES_QOS)
    sink = ros_graph.start("face_sink", "face_sink", namespace=CAMERA, **params)
    if not wait_until(lambda: publisher.get_subscription_count() > 0 or sink.poll() is not None, TIMEOUT_S):
        sink.kill()
    assert sink.poll() is None, f"the sink did not subscribe; log:\n{finish(sink)[1]}"
    return sink, publisher


def rows(database: Path) -> list[tuple]:
    if not database.is_file():
        return []
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT camera_id, stamp_ns, face_index, face_id, age, gender, box_x, new_face "
            "FROM face_events ORDER BY stamp_ns, face_index"
        ).fetchall()
    except sqlite3.OperationalError:  # table not created yet
        return []
    finally:
        con.close()


def test_sink_writes_each_face_once_saves_crops_and_skips_bad_messages(
    ros_graph: RosProcesses, tmp_path: Path
):
    database, crops = tmp_path / "out" / "events.sqlite", tmp_path / "crops"
    health = ros_graph.diagnostics(NODE)
    params = {"database": database, "save_crops": True, "crops_dir": crops, "spool_path": tmp_path / "spool"}
    sink, publisher = start_sink(ros_graph, params)

    bad = attributed_frame(1)
    bad.faces[0].crop.data = bad.faces[0].crop.data[:-5]  # truncated crop: unreadable message
    for msg in (attributed_frame(0), bad, attributed_frame(2), attributed_frame(0)):  # frame 0 replayed
        publisher.publish(msg)
    assert wait_until(lambda: len(rows(database)) >= 4, TIMEOUT_S)
    publisher.publish(attributed_frame(0))  # a late replay changes nothing either
    warning = reported(health, Level.WARN, "bad_messages +1")
    log = stop(sink)

    t0 = T0_S * 10**9
    assert rows(database) == [
        (CAMERA, t0, 0, 1, 30.0, "male", 10, 1),
        (CAMERA, t0, 1, 2, 31.0, "female", 60, 1),
        (CAMERA, t0 + 2 * 10**9, 0, 1, 30.0, "male", 10, 0),
        (CAMERA, t0 + 2 * 10**9, 1, 2, 31.0, "female", 60, 0),
    ]
    assert sorted(p.name for p in (crops / "face_1").iterdir()) == [
        f"door_{t0}_0.jpg",
        f"door_{t0 + 2 * 10**9}_0.jpg",
    ]
    assert len(list((crops / "face_2").iterdir())) == 2
    assert "dropping unreadable FaceArray: " in log and "(bad_messages=1)" in log
    assert status_values(warning)["bad_messages"] == "1"
    # 5 messages (reliable: all came), the bad one dropped; 8 events, 4 of them replays.
    assert exit_counters(log) == {
        "frames": 5,
        "pending": 0,
        "accepted": 8,
        "replayed": 0,
        "inserted": 4,
        "duplicates": 4,
        "invalid": 0,
        "dropped": 0,
        "failures": 0,
        "bad_messages": 1,
        "crop_failures": 0,
    }, log


def test_events_survive_a_database_that_is_unwritable_at_first(ros_graph: RosProcesses, tmp_path: Path):
    blocker = tmp_path / "volume"
    blocker.write_text("a file where the database folder should be")
    database = blocker / "events.sqlite"
    health = ros_graph.diagnostics(NODE)
    params = {"database": database, "retry_interval_s": 0.5, "spool_path": tmp_path / "spool"}
    sink, publisher = start_sink(ros_graph, params)

    for sec in range(5):
        publisher.publish(attributed_frame(sec, faces=1 + sec % 2))
    down = reported(health, Level.ERROR, "database unavailable")  # while the folder cannot exist
    time.sleep(1.0)  # more failed attempts
    assert not database.exists()
    blocker.unlink()
    assert wait_until(lambda: len(rows(database)) >= 7, TIMEOUT_S)
    # ERROR while the fault stands, OK again once the queued events are written.
    assert wait_until(lambda: Level.OK in levels(health)[levels(health).index(Level.ERROR) :], 10)
    log = stop(sink)

    stored = rows(database)
    assert len(stored) == 7  # 1 + 2 + 1 + 2 + 1 faces, nothing lost, nothing doubled
    assert sorted({(r[1] // 10**9) - T0_S for r in stored}) == [0, 1, 2, 3, 4]
    assert not any(math.isnan(r[4]) for r in stored)
    assert "database unavailable" in log and "database unavailable" in down.message
    assert "database reachable again: wrote" in log
    counters = exit_counters(log)
    assert counters["failures"] >= 2 and counters["pending"] == counters["dropped"] == 0
    assert (counters["frames"], counters["accepted"], counters["inserted"]) == (5, 7, 7)


def test_retention_deletes_old_events_at_start(ros_graph: RosProcesses, tmp_path: Path):
    database = tmp_path / "events.sqlite"
    now_ns = time.time_ns()
    store = open_sqlite_store(database)
    store.write_events(
        FaceEvent(CAMERA, now_ns - hours * 3600 * 10**9, 0, 1, 30.0, "male", Box(0, 0, 1, 1), 0.1, False)
        for hours in (12, 36, 72)
    )
    store.close()
    sink, _ = start_sink(
        ros_graph, {"database": database, "retention_days": 1.0, "spool_path": tmp_path / "spool"}
    )
    log = stop(sink)
    assert [r[1] for r in rows(database)] == [now_ns - 43_200 * 10**9]
    assert "retention: deleted 2 events older than 1 days" in log


def test_sink_exits_by_itself_once_the_source_is_done(ros_graph: RosProcesses, tmp_path: Path):
    database = tmp_path / "events.sqlite"
    params = {"database": database, "exit_when_idle_s": 2.0, "spool_path": tmp_path / "spool"}
    sink, publisher = start_sink(ros_graph, params)
    time.sleep(3.0)  # idle before the first frame does not count: the graph may still be starting
    assert sink.poll() is None
    for sec in range(3):
        publisher.publish(attributed_frame(sec))
    code, log = finish(sink, timeout_s=20)
    assert code == 0, log
    assert "after 3 frames: source done, exiting" in log
    assert len(rows(database)) == 6
    assert exit_counters(log)["inserted"] == 6


def test_one_sink_serves_several_cameras_until_the_last_goes_idle(ros_graph: RosProcesses, tmp_path: Path):
    database = tmp_path / "events.sqlite"
    door, till = (
        ros_graph.node.create_publisher(FacesMsg, f"/{camera}/faces_attributed", FACES_QOS)
        for camera in ("door", "till")
    )
    params = {
        "database": database,
        "exit_when_idle_s": 2.0,
        "camera_namespaces": "[door, /till]",
        "spool_path": tmp_path / "spool",
    }
    sink = ros_graph.start("face_sink", "face_sink", **params)  # in /: door is /door
    subscribed = lambda: door.get_subscription_count() and till.get_subscription_count()  # noqa: E731
    assert wait_until(lambda: subscribed() or sink.poll() is not None, TIMEOUT_S) and sink.poll() is None
    for sec in range(2):
        door.publish(attributed_frame(sec, camera_id="door"))
    time.sleep(1.5)
    till.publish(attributed_frame(5, faces=1, camera_id="till"))
    time.sleep(1.5)  # 3 s after door's last frame, 1.5 s after till's: not idle yet
    assert sink.poll() is None, "the sink waits for the last camera to go idle"
    code, log = finish(sink, timeout_s=20)
    assert code == 0, log
    assert "after 3 frames: source done, exiting" in log
    assert [(r[0], r[1] // 10**9 - T0_S) for r in rows(database)] == [
        ("door", 0),
        ("door", 0),
        ("door", 1),
        ("door", 1),
        ("till", 5),
    ]
