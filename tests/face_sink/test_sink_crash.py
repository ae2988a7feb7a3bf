"""The face_sink process killed (SIGKILL) with accepted events it could not write, and a permanent
database error: nothing accepted is lost, nothing is written twice.

The node runs as a real process (``ros_processes``); the database is a SQLite file this process
locks (``BEGIN EXCLUSIVE``, as a long writer or a backup would) or gives a table of another schema.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from face_common.health import Level
from rclpy.publisher import Publisher
from ros_processes import RosProcesses, exit_counters, finish, reported, status_values, stop, wait_until
from test_sink_node import CAMERA, NODE, T0_S, TIMEOUT_S, attributed_frame, rows, start_sink


def accepted(statuses: list, count: int) -> bool:
    """Whether the node said on /diagnostics that it accepted ``count`` events."""
    return any(int(status_values(s).get("accepted", 0)) >= count for s in list(statuses))


def forget(ros_graph: RosProcesses, publisher: Publisher) -> None:
    """Destroy ``publisher`` and its transient-local history, so a restarted sink can only get its
    events back from the spool; done by the spinning thread (destroying an entity the executor
    is waiting on from another thread breaks the executor)."""
    done = threading.Event()

    def destroy() -> None:
        timer.cancel()
        ros_graph.node.destroy_publisher(publisher)
        done.set()

    timer = ros_graph.node.create_timer(0.01, destroy)
    assert done.wait(5.0)


def lock(database: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_killed_sink_writes_its_spooled_events_exactly_once_after_restart(
    ros_graph: RosProcesses, tmp_path: Path
):
    database, spool = tmp_path / "events.sqlite", tmp_path / "spool" / "sink.sqlite"
    params = {"database": database, "spool_path": spool, "retry_interval_s": 0.5}
    health = ros_graph.diagnostics(NODE)
    sink, publisher = start_sink(ros_graph, params)
    for sec in range(2):  # the database is up: written at once
        publisher.publish(attributed_frame(sec))
    assert wait_until(lambda: len(rows(database)) == 4, TIMEOUT_S)
    holder = lock(database)
    for sec in range(2, 5):  # locked: accepted into the spool, not written
        publisher.publish(attributed_frame(sec))
    assert wait_until(lambda: accepted(health, 10), TIMEOUT_S), [status_values(s) for s in health]
    reported(health, Level.ERROR, "database unavailable, 6 events spooled")
    sink.kill()  # SIGKILL: no close, no flush
    sink.communicate()
    holder.execute("COMMIT")
    holder.close()
    assert len(rows(database)) == 4
    forget(ros_graph, publisher)  # only the spool can bring the 6 events back

    sink, publisher = start_sink(ros_graph, params)
    publisher.publish(attributed_frame(5, faces=1))
    assert wait_until(lambda: len(rows(database)) == 11, TIMEOUT_S)
    log = stop(sink)
    stored = rows(database)
    keys = [(r[0], r[1], r[2]) for r in stored]
    assert len(keys) == len(set(keys)) == 11  # each event once: 2 + 2 before, 2 x 3 spooled, 1 after
    assert sorted({r[1] // 10**9 - T0_S for r in stored}) == list(range(6))
    assert "writing 6 events an earlier run left in the spool" in log
    counters = exit_counters(log)
    assert (counters["replayed"], counters["accepted"], counters["inserted"], counters["pending"]) == (
        6,
        1,
        7,
        0,
    )


def test_a_full_spool_is_an_error_and_refuses_the_newest_events(ros_graph: RosProcesses, tmp_path: Path):
    database = tmp_path / "events.sqlite"
    params = {"database": database, "spool_path": tmp_path / "sink.spool", "max_pending_events": 3}
    sink, publisher = start_sink(ros_graph, params)
    publisher.publish(attributed_frame(0))
    assert wait_until(lambda: len(rows(database)) == 2, TIMEOUT_S)
    health = ros_graph.diagnostics(NODE)
    holder = lock(database)
    publisher.publish(attributed_frame(1))
    publisher.publish(attributed_frame(2))  # 4 events, room for 3
    full = reported(health, Level.ERROR, "spool full (3 events), 1 refused")
    assert status_values(full)["dropped"] == "1"
    holder.execute("COMMIT")
    holder.close()
    assert wait_until(lambda: len(rows(database)) == 5, TIMEOUT_S)
    reported(health, Level.OK)  # written: room again
    log = stop(sink)
    assert "spool full (3 events): 1 events refused" in log
    assert [(r[1] // 10**9 - T0_S, r[2]) for r in rows(database)] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)]


def test_a_permanent_database_error_stops_the_sink_and_a_restart_after_the_fix_writes_the_events(
    ros_graph: RosProcesses, tmp_path: Path
):
    database, spool = tmp_path / "events.sqlite", tmp_path / "sink.spool"
    with sqlite3.connect(database) as other_schema:  # face_events of another program
        other_schema.execute("CREATE TABLE face_events (id INTEGER PRIMARY KEY, note TEXT)")
    params = {"database": database, "spool_path": spool}
    sink, publisher = start_sink(ros_graph, params)
    publisher.publish(attributed_frame(0))
    code, log = finish(sink, timeout_s=TIMEOUT_S)
    forget(ros_graph, publisher)
    assert code == 1, log
    failure = [line for line in log.splitlines() if "permanent database error" in line]
    assert len(failure) == 1, log
    assert "no such column: face_id" in failure[0] and "2 events kept in the spool" in failure[0]
    assert "Traceback" not in log

    with sqlite3.connect(database) as fix:
        fix.execute("DROP TABLE face_events")
    sink, _ = start_sink(ros_graph, params)
    assert wait_until(lambda: len(rows(database)) == 2, TIMEOUT_S)
    log = stop(sink)
    assert [(r[0], r[1] // 10**9 - T0_S, r[2]) for r in rows(database)] == [(CAMERA, 0, 0), (CAMERA, 0, 1)]
    counters = exit_counters(log)
    assert (counters["replayed"], counters["accepted"], counters["inserted"]) == (2, 0, 2)
