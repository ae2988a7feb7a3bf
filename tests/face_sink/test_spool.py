"""The durable spool: order, bound, replay after a crash, one owner at a time.

Durability rests on SQLite's commit: with ``journal_mode=WAL`` and ``synchronous=FULL`` the WAL is
fsynced before ``COMMIT`` returns, so what :meth:`Spool.append` returned is on the disk, not in a
page cache a power cut would lose. A test cannot cut the power; it checks the settings the
argument rests on and that a process killed with SIGKILL right after ``append`` loses nothing.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from face_sink.spool import DEFAULT_SPOOL_PATH, Spool, node_spool_path


def test_records_leave_in_acceptance_order_and_seqs_are_never_reused(tmp_path: Path):
    spool = Spool(tmp_path / "spool.sqlite", capacity=10)
    first = spool.append([(b"a", b"1"), (b"b", None), (b"c", b"3")])
    assert [(r.key, r.value) for r in spool.read()] == [(b"a", b"1"), (b"b", None), (b"c", b"3")]
    assert [r.seq for r in spool.read(limit=2)] == first[:2]
    spool.remove([first[2], first[0]])  # acknowledged out of order, as Kafka partitions are
    later = spool.append([(b"d", b"4")])
    assert [(r.key, r.value) for r in spool.read()] == [(b"b", None), (b"d", b"4")]
    assert later[0] > max(first) and len(spool) == 2
    spool.close()


def test_a_full_spool_refuses_the_newest_and_keeps_what_it_accepted(tmp_path: Path):
    spool = Spool(tmp_path / "spool.sqlite", capacity=3)
    assert len(spool.append([(b"k", b"1"), (b"k", b"2")])) == 2
    assert len(spool.append([(b"k", b"3"), (b"k", b"4")])) == 1  # only what fits
    assert spool.full and spool.append([(b"k", b"5")]) == []
    assert [r.value for r in spool.read()] == [b"1", b"2", b"3"]
    spool.remove([spool.read(limit=1)[0].seq])
    assert not spool.full and len(spool.append([(b"k", b"6")])) == 1
    spool.close()


def test_what_was_appended_survives_sigkill_and_is_replayed_in_order(tmp_path: Path):
    path = tmp_path / "out" / "spool.sqlite"
    child = textwrap.dedent(
        f"""
        import os, signal
        from face_sink.spool import Spool
        spool = Spool({str(path)!r}, capacity=100)
        for frame in range(5):
            spool.append([(b"cam", f"{{frame}}.{{i}}".encode()) for i in range(2)])
        spool.remove([r.seq for r in spool.read(limit=3)])
        os.kill(os.getpid(), signal.SIGKILL)  # no close, no atexit: a crash
        """
    )
    assert subprocess.run([sys.executable, "-c", child]).returncode == -9
    spool = Spool(path, capacity=100)  # the dead process's lock went with it
    assert [r.value for r in spool.read()] == [b"1.1", b"2.0", b"2.1", b"3.0", b"3.1", b"4.0", b"4.1"]
    assert len(spool) == 7
    spool.close()


def test_commits_are_fsynced_before_append_returns(tmp_path: Path):
    spool = Spool(tmp_path / "spool.sqlite", capacity=1)
    connection = spool._connection
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    spool.close()


def test_a_second_owner_is_refused_at_open(tmp_path: Path):
    path = tmp_path / "spool.sqlite"
    spool = Spool(path, capacity=1)
    other = subprocess.run(
        [sys.executable, "-c", f"from face_sink.spool import Spool; Spool({str(path)!r}, 1)"],
        capture_output=True,
        text=True,
    )
    assert other.returncode == 1 and "is another node using it?" in other.stderr
    spool.close()
    Spool(path, capacity=1).close()  # free again once the owner closed it


def test_default_path_is_one_file_per_node_and_domain():
    assert node_spool_path(DEFAULT_SPOOL_PATH, "/cam1/face_sink", 0) == "out/spool/0/cam1.face_sink.sqlite"
    assert node_spool_path(DEFAULT_SPOOL_PATH, "/face_sink", 42) == "out/spool/42/face_sink.sqlite"
    assert node_spool_path("/var/spool/sink.db", "/face_sink", 0) == "/var/spool/sink.db"
