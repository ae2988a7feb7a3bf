from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest
from bench_pipeline import (
    CLOCK_TICKS,
    EventWatcher,
    NodeSamples,
    ProcessSampler,
    child_pids,
    median_of_runs,
    node_name,
    parse_stat,
    parse_vm_hwm_kib,
    summarise,
)

# /proc/<pid>/stat: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
# cmajflt utime stime ...
STAT = "4242 ({comm}) S {ppid} 4242 4242 0 -1 4194560 900 0 0 0 {utime} {stime} 0 0 20 0 9 0 77 0 0"


@pytest.mark.parametrize("comm", ["python3", "face sink", "a) (b", "x)"])
def test_parse_stat_reads_ppid_and_cpu_ticks_whatever_the_name(comm: str) -> None:
    assert parse_stat(STAT.format(comm=comm, ppid=17, utime=250, stime=31)) == (17, 281)


def test_parse_vm_hwm_kib() -> None:
    status = "Name:\tpython3\nVmPeak:\t 900000 kB\nVmHWM:\t  212340 kB\nVmRSS:\t  200000 kB\n"
    assert parse_vm_hwm_kib(status) == 212340
    assert parse_vm_hwm_kib("Name:\tkthreadd\n") == 0  # kernel threads have no memory lines


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/v/bin/python3", "/v/lib/face_sink/face_sink", "--ros-args", "-r", "__node:=sink"], "sink"),
        (["/v/lib/camera_node/camera_node", "--ros-args", "-r", "__node:=camera"], "camera"),
        (["/v/bin/python3", "/v/lib/identity_node/identity_node", "--ros-args"], "identity_node"),
        (["/usr/bin/tansu"], "tansu"),
    ],
)
def test_node_name(argv: list[str], expected: str) -> None:
    assert node_name(argv) == expected


def test_child_pids_scans_a_proc_tree(tmp_path: Path) -> None:
    for pid, ppid in [(10, 1), (11, 10), (12, 10), (13, 11)]:
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(STAT.format(comm="p", ppid=ppid, utime=0, stime=0))
    (tmp_path / "14").mkdir()  # a process that exited before its stat was read
    (tmp_path / "self").mkdir()
    assert child_pids(10, tmp_path) == [11, 12]
    assert child_pids(99, tmp_path) == []


def test_cpu_percent_uses_the_samples_inside_the_window() -> None:
    second = 1_000_000_000
    node = NodeSamples("identity", times_ns=[0, 1 * second, 3 * second, 9 * second])
    node.ticks = [0, 10 * CLOCK_TICKS, 11 * CLOCK_TICKS, 99 * CLOCK_TICKS]
    # Window 1..3 s: 1 CPU-second in 2 wall seconds (the samples outside are ignored).
    assert node.cpu_percent(1 * second, 3 * second) == pytest.approx(50.0)
    assert math.isnan(node.cpu_percent(4 * second, 5 * second))


def test_process_sampler_finds_this_process_as_a_child_of_its_parent() -> None:
    import os

    sampler = ProcessSampler(os.getppid())
    sampler.sample()
    sampler.sample()
    mine = sampler.nodes[os.getpid()]
    assert len(mine.ticks) == 2 and mine.ticks[1] >= mine.ticks[0]
    assert mine.peak_rss_kib > 1000


def write_rows(database: Path, rows: list[tuple[int, int]]) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS face_events (stamp_ns INTEGER, face_index INTEGER)")
        connection.executemany("INSERT INTO face_events VALUES (?, ?)", rows)
    connection.close()


def test_event_watcher_records_each_frame_once_at_its_first_sighting(tmp_path: Path) -> None:
    database = tmp_path / "events.sqlite"
    watcher = EventWatcher(database)
    watcher.poll()  # no file yet: nothing, no error
    sqlite3.connect(database).close()
    watcher.poll()  # no table yet
    write_rows(database, [(100, 0), (100, 1), (200, 0)])
    watcher.poll()
    first = dict(watcher.first_seen_ns)
    write_rows(database, [(300, 0)])
    watcher.poll()
    watcher.close()
    assert set(watcher.first_seen_ns) == {100, 200, 300}
    assert watcher.faces == 4
    assert {k: watcher.first_seen_ns[k] for k in first} == first  # earlier sightings kept
    assert watcher.first_seen_ns[300] >= first[200]


def fake_watcher(first_seen_ns: dict[int, int], faces: int) -> EventWatcher:
    watcher = EventWatcher(Path("unused"))
    watcher.first_seen_ns, watcher.faces = first_seen_ns, faces
    return watcher


LOG = (
    "[camera] [INFO] [1.0] [cam1.camera]: published 40 frames (0 as stored), 0 failed, "
    "2 slots skipped while late\n"
    "[sink] [INFO] [2.0] [cam1.sink]: no frame for 3 s after 37 frames: source done, exiting\n"
)


def test_summarise_counts_drops_fps_and_latency_after_warmup() -> None:
    second = 1_000_000_000
    # Frames captured every 0.5 s from t=10 s, each committed 100 ms later, except the first
    # (inside the 1 s warm-up), committed 900 ms later; 37 frames at the sink over 18 s.
    stamps = [10 * second + i * second // 2 for i in range(37)]
    seen = {s: s + 100_000_000 for s in stamps}
    seen[stamps[0]] = stamps[0] + 900_000_000
    sampler = ProcessSampler(0)
    sampler.nodes[1] = NodeSamples("sink", [stamps[0], stamps[-1]], [0, 9 * CLOCK_TICKS], 2048)
    row = summarise(2.0, 40, LOG, fake_watcher(seen, 74), sampler, warmup_s=1.0)
    assert (row["published"], row["sink_frames"], row["dropped"], row["slots_skipped"]) == (40, 37, 3, 2)
    assert row["faces_per_frame"] == 2.0
    assert row["latency_frames"] == 35  # the frames at 10.0 s and 10.5 s are in the warm-up
    assert row["latency_p50_ms"] == pytest.approx(100.0)
    assert row["latency_p95_ms"] == pytest.approx(100.0)
    # 36 intervals between the first commit (10.6 s: the 2nd frame's) and the last (28.1 s).
    assert row["sink_fps"] == pytest.approx(36 / 17.5)
    assert row["nodes"]["sink"]["cpu_percent"] == pytest.approx(50.0)
    assert row["nodes"]["sink"]["peak_rss_mib"] == 2.0


def test_summarise_without_rows_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no event row"):
        summarise(2.0, 40, LOG, fake_watcher({}, 0), ProcessSampler(0), warmup_s=1.0)


def test_median_of_runs_per_number_and_per_node() -> None:
    runs = [
        {"sink_fps": fps, "dropped": dropped, "nodes": {"camera": {"cpu_percent": cpu, "peak_rss_mib": 99.0}}}
        for fps, dropped, cpu in [(3.0, 1, 10.0), (5.0, None, 30.0), (4.0, 3, float("nan"))]
    ]
    row = median_of_runs(runs)
    assert row["sink_fps"] == 4.0
    assert row["dropped"] == 2  # missing values are skipped
    assert row["nodes"]["camera"] == {"cpu_percent": 20.0, "peak_rss_mib": 99.0}
