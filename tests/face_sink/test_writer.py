"""The retrying writer against real SQLite files that are locked, unreachable or of a wrong schema,
its spool on disk across writer lifetimes (a crashing sink process: test_sink_crash.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from face_common.faces import Box, FaceEvent
from face_sink.schema import open_sqlite_store
from face_sink.spool import Spool
from face_sink.writer import RetryingEventWriter, encode_spooled

T0 = 1_700_000_000 * 10**9


def frame_events(frame: int, faces: int = 2) -> list[FaceEvent]:
    return [
        FaceEvent("cam0", T0 + frame * 10**8, i, 100 + i, 30.0, "male", Box(0, 0, 10, 10), 0.3, False)
        for i in range(faces)
    ]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def block_by_lock(path: Path):
    """Another connection holds an exclusive lock, as a long writer or backup would."""
    open_sqlite_store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return lambda: (holder.execute("COMMIT"), holder.close())


def block_by_missing_directory(path: Path):
    """The database's folder cannot be created yet (a file sits where it should be)."""
    path.parent.write_text("not a directory")
    return lambda: path.parent.unlink()


@pytest.mark.parametrize("block", [block_by_lock, block_by_missing_directory])
def test_unavailable_database_loses_no_accepted_events(tmp_path, block):
    path = tmp_path / "store" / "events.sqlite"
    unblock = block(path)
    clock = FakeClock()
    writer = RetryingEventWriter(
        lambda: open_sqlite_store(path, busy_timeout_s=0.05), retry_interval_s=2.0, clock=clock
    )
    for frame in range(5):
        assert writer.submit(frame_events(frame)) == []
        result = writer.flush()
        clock.now += 0.5
        if frame == 0:
            assert result.error is not None
    assert writer.pending == 10
    assert writer.counters.failures == 2  # retried at 0 s and 2 s of the outage, not on every frame
    unblock()
    clock.now += 2.0
    result = writer.flush()
    assert result.error is None and result.inserted == 10
    assert writer.pending == 0
    writer.close()
    store = open_sqlite_store(path)
    assert store.count_events() == 10
    store.close()


def test_full_spool_refuses_new_events_and_keeps_accepted_ones(tmp_path):
    path = tmp_path / "events.sqlite"
    unblock = block_by_lock(path)
    writer = RetryingEventWriter(lambda: open_sqlite_store(path, busy_timeout_s=0.01), max_pending=3)
    writer.submit(frame_events(0))
    problems = writer.submit(frame_events(1))
    assert problems == ["spool full (3 events): 1 events refused"]
    assert (writer.counters.accepted, writer.counters.dropped, writer.pending) == (3, 1, 3)
    assert writer.flush().error is not None
    unblock()
    assert writer.flush(force=True).inserted == 3
    store = open_sqlite_store(path)
    assert [(e.stamp_ns, e.face_index) for e in store.read_events()] == [(T0, 0), (T0, 1), (T0 + 10**8, 0)]
    store.close()


def test_spooled_events_outlive_the_writer_and_are_written_once(tmp_path):
    path, spool = tmp_path / "events.sqlite", tmp_path / "spool" / "sink.sqlite"
    unblock = block_by_lock(path)
    writer = RetryingEventWriter(lambda: open_sqlite_store(path, busy_timeout_s=0.01), spool_path=spool)
    for frame in range(3):
        writer.submit(frame_events(frame))
    assert writer.flush().error is not None and writer.pending == 6
    writer.close()  # what the spool holds is on disk already: close writes nothing more
    unblock()
    # An earlier run wrote frame 0 and died before it could take it out of the spool.
    store = open_sqlite_store(path)
    store.write_events(frame_events(0))
    store.close()

    writer = RetryingEventWriter(lambda: open_sqlite_store(path), spool_path=spool)
    assert (writer.counters.replayed, writer.pending) == (6, 6)
    result = writer.flush()
    assert (result.written, result.inserted, writer.pending) == (6, 4, 0)
    assert writer.counters.duplicates == 2
    writer.close()
    store = open_sqlite_store(path)
    assert store.count_events() == 6
    store.close()


def test_a_permanent_database_error_keeps_the_events_for_the_start_after_the_fix(tmp_path):
    path, spool = tmp_path / "events.sqlite", tmp_path / "sink.spool"
    with sqlite3.connect(path) as other_schema:  # a face_events table of some other program
        other_schema.execute("CREATE TABLE face_events (id INTEGER PRIMARY KEY, note TEXT)")
    clock = FakeClock()
    writer = RetryingEventWriter(lambda: open_sqlite_store(path), spool_path=spool, clock=clock)
    assert writer.submit(frame_events(0)) == []
    result = writer.flush()
    assert result.permanent and "no such column: face_id" in result.error
    assert writer.pending == 2
    writer.close()

    with sqlite3.connect(path) as fix:
        fix.execute("DROP TABLE face_events")
    writer = RetryingEventWriter(lambda: open_sqlite_store(path), spool_path=spool, clock=clock)
    result = writer.flush()
    assert (result.error, result.inserted, writer.pending) == (None, 2, 0)
    writer.close()


def test_a_locked_database_is_transient_not_permanent(tmp_path):
    path = tmp_path / "events.sqlite"
    block_by_lock(path)
    writer = RetryingEventWriter(lambda: open_sqlite_store(path, busy_timeout_s=0.01))
    writer.submit(frame_events(0))
    result = writer.flush()
    assert "database is locked" in result.error and not result.permanent
    writer.close()


def test_replayed_frames_count_as_duplicates(tmp_path):
    writer = RetryingEventWriter(lambda: open_sqlite_store(tmp_path / "events.sqlite"))
    writer.submit(frame_events(0))
    writer.flush()
    writer.submit(frame_events(0))
    assert writer.flush().inserted == 0
    assert (writer.counters.inserted, writer.counters.duplicates) == (2, 2)
    writer.close()


def test_invalid_events_are_refused_at_submit_not_retried_forever(tmp_path):
    writer = RetryingEventWriter(lambda: open_sqlite_store(tmp_path / "events.sqlite"))
    bad = FaceEvent("", T0, 0, 1, 30.0, "male", Box(0, 0, 1, 1), 0.1, False)
    problems = writer.submit([bad, *frame_events(0, faces=1)])
    assert len(problems) == 1 and "camera id" in problems[0]
    assert writer.flush().inserted == 1
    assert writer.counters.invalid == 1
    writer.close()


def test_a_spooled_event_the_schema_now_refuses_is_counted_invalid_and_the_rest_written(tmp_path):
    spool_path, path = tmp_path / "sink.spool", tmp_path / "events.sqlite"
    spool = Spool(spool_path, capacity=10)  # as older code, or a damaged disk, left it
    spool.append([(b"", b'{"camera_id": "cam0"}'), *((b"", encode_spooled(e)) for e in frame_events(0))])
    spool.close()
    writer = RetryingEventWriter(lambda: open_sqlite_store(path), spool_path=spool_path)
    result = writer.flush()
    assert (result.error, result.written, result.inserted, writer.pending) == (None, 2, 2, 0)
    assert (writer.counters.replayed, writer.counters.invalid) == (3, 1)
    writer.close()
