"""The face_sink node as a real process: FaceArray messages over DDS in, rows in SQLite out.

Each test runs the installed ``face_sink`` entry point in its own ROS domain and reads the SQLite
file the node writes, as the report would.
"""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import rclpy
from face_common.faces import Box, Face, FaceEvent, FrameFaces, FrameRef
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_to_msg
from face_sink.schema import open_sqlite_store
from graph_launcher.command_line import resolve_executable
from rclpy.executors import SingleThreadedExecutor

DOMAIN_ID = 200 + os.getpid() % 30  # away from domain 0 and from the other node tests' range
CAMERA = "door"
T0_S = 1_700_000_000
TIMEOUT_S = 30.0


def attributed_frame(sec: int, faces: int = 2) -> FacesMsg:
    crop = np.full((28, 28, 3), 120, dtype=np.uint8)
    return frame_faces_to_msg(
        FrameFaces(
            FrameRef(CAMERA, (T0_S + sec) * 10**9),
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


def start_sink(params: dict[str, object]) -> subprocess.Popen:
    env = {**os.environ, "ROS_DOMAIN_ID": str(DOMAIN_ID), "PYTHONUNBUFFERED": "1"}
    command = [resolve_executable("face_sink", "face_sink"), "--ros-args"]
    for name, value in params.items():
        command += ["-p", f"{name}:={value}"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    log, _ = process.communicate(timeout=20)
    assert process.returncode == 0, log
    return log


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


@pytest.fixture
def ros_publisher() -> Iterator[tuple[Callable[[FacesMsg], None], Callable]]:
    """A publisher of ``faces_attributed`` in the test domain, and a function that waits on it."""
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=DOMAIN_ID)
    node = rclpy.create_node("face_sink_test", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    publisher = node.create_publisher(FacesMsg, "faces_attributed", FACES_QOS)

    def wait_for(done: Callable[[], bool], process: subprocess.Popen, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while not done():
            assert process.poll() is None, f"face_sink died:\n{process.stdout.read()}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            executor.spin_once(timeout_sec=0.1)

    yield publisher, wait_for
    node.destroy_node()
    rclpy.shutdown(context=context)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sink_writes_each_face_once_saves_crops_and_skips_bad_messages(tmp_path, ros_publisher, processes):
    publisher, wait_for = ros_publisher
    database, crops = tmp_path / "out" / "events.sqlite", tmp_path / "crops"
    sink = start_sink({"database": str(database), "save_crops": True, "crops_dir": str(crops)})
    processes.append(sink)
    wait_for(lambda: publisher.get_subscription_count() > 0, sink, "the sink to subscribe")

    bad = attributed_frame(1)
    bad.faces[0].crop.data = bad.faces[0].crop.data[:-5]  # truncated crop: unreadable message
    for msg in (attributed_frame(0), bad, attributed_frame(2), attributed_frame(0)):  # frame 0 replayed
        publisher.publish(msg)
    wait_for(lambda: len(rows(database)) >= 4, sink, "4 rows")
    publisher.publish(attributed_frame(0))  # a late replay changes nothing either
    time.sleep(1.0)
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
    assert "unreadable faces message (1 so far)" in log


def test_events_survive_a_database_that_is_unwritable_at_first(tmp_path, ros_publisher, processes):
    publisher, wait_for = ros_publisher
    blocker = tmp_path / "volume"
    blocker.write_text("a file where the database folder should be")
    database = blocker / "events.sqlite"
    sink = start_sink({"database": str(database), "retry_interval_s": 0.5})
    processes.append(sink)
    wait_for(lambda: publisher.get_subscription_count() > 0, sink, "the sink to subscribe")

    for sec in range(5):
        publisher.publish(attributed_frame(sec, faces=1 + sec % 2))
    time.sleep(1.5)  # several failed attempts while the folder cannot exist
    assert not database.exists()
    blocker.unlink()
    wait_for(lambda: len(rows(database)) >= 7, sink, "the queued rows")
    log = stop(sink)

    stored = rows(database)
    assert len(stored) == 7  # 1 + 2 + 1 + 2 + 1 faces, nothing lost, nothing doubled
    assert sorted({(r[1] // 10**9) - T0_S for r in stored}) == [0, 1, 2, 3, 4]
    assert not any(math.isnan(r[4]) for r in stored)
    assert "database unavailable" in log
    assert "database reachable again: wrote" in log


def test_retention_deletes_old_events_at_start(tmp_path, ros_publisher, processes):
    publisher, wait_for = ros_publisher
    database = tmp_path / "events.sqlite"
    now_ns = time.time_ns()
    store = open_sqlite_store(database)
    store.write_events(
        FaceEvent(CAMERA, now_ns - hours * 3600 * 10**9, 0, 1, 30.0, "male", Box(0, 0, 1, 1), 0.1, False)
        for hours in (12, 36, 72)
    )
    store.close()
    sink = start_sink({"database": str(database), "retention_days": 1.0})
    processes.append(sink)
    wait_for(lambda: publisher.get_subscription_count() > 0, sink, "the sink to subscribe")
    log = stop(sink)
    assert [r[1] for r in rows(database)] == [now_ns - 43_200 * 10**9]
    assert "retention: deleted 2 events older than 1 days" in log


def test_sink_exits_by_itself_once_the_source_is_done(tmp_path, ros_publisher, processes):
    publisher, wait_for = ros_publisher
    database = tmp_path / "events.sqlite"
    sink = start_sink({"database": str(database), "exit_when_idle_s": 2.0})
    processes.append(sink)
    wait_for(lambda: publisher.get_subscription_count() > 0, sink, "the sink to subscribe")
    time.sleep(3.0)  # idle before the first frame does not count: the graph may still be starting
    assert sink.poll() is None
    for sec in range(3):
        publisher.publish(attributed_frame(sec))
    log, _ = sink.communicate(timeout=20)
    assert sink.returncode == 0, log
    assert "after 3 frames: source done, exiting" in log
    assert len(rows(database)) == 6
