from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest
from bench_pipeline import (
    CLOCK_TICKS,
    PER_FRAME,
    PER_TRACK,
    EventWatcher,
    NodeSamples,
    ProcessSampler,
    child_pids,
    combine_cameras,
    comparison,
    frame_latencies_ms,
    median_of_runs,
    mode_arguments,
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


LOG = (  # each node's last line is its counters (GraphNode.close); the sink ends the graph
    "[face_detect] [INFO] [1.0] [cam1.face_detect]: cam1 frame 38: 2 face(s)\n"
    "[camera] [INFO] [1.5] [cam1.camera]: counters: published=40 republished=0 slots_skipped=2 failed=0\n"
    "[sink] [INFO] [3.0] [cam1.sink]: no frame for 11 s after 37 frames: source done, exiting\n"
    "[face_detect] [INFO] [3.1] [cam1.face_detect]: counters: frames=38 detections=13 faces=48 "
    "bad_messages=0\n"
    "[identity] [INFO] [3.1] [cam1.identity]: counters: frames=37 faces=46 described=9 new_faces=2 "
    "last_face_id=2 bad_messages=0 skipped_faces=0 failed_frames=0\n"
    "[agegender] [INFO] [3.2] [cam1.agegender]: counters: frames=37 faces=46 estimated=8 bad_messages=0 "
    "skipped_faces=0 failed_frames=0\n"
    "[sink] [INFO] [3.3] [cam1.sink]: counters: frames=37 pending=0 accepted=74 inserted=74 duplicates=0 "
    "invalid=0 dropped=0 failures=0 bad_messages=0 crop_failures=0\n"
)


def test_mode_arguments() -> None:
    assert mode_arguments(PER_FRAME, 3) == ["detect_every:=1", "tracking:=false"]
    assert mode_arguments(PER_TRACK, 4) == ["detect_every:=4", "tracking:=true"]
    with pytest.raises(ValueError, match="unknown mode"):
        mode_arguments("per-face", 3)


def test_frame_latencies_leave_out_the_warmup() -> None:
    second = 1_000_000_000
    seen = {
        10 * second: 11 * second,
        10 * second + second // 2: 11 * second,
        12 * second: 12 * second + 5_000_000,
    }
    assert frame_latencies_ms(seen, warmup_s=1.0) == [5.0]
    assert frame_latencies_ms({}, warmup_s=1.0) == []


def test_summarise_counts_drops_where_fps_and_latency_after_warmup() -> None:
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
    # 38 frames reached the detector, so 2 were lost before it.
    assert (row["detector_frames"], row["dropped_camera_detector"], row["dropped_detector_sink"]) == (
        38,
        2,
        1,
    )
    assert (row["detections"], row["described"], row["estimated"]) == (13, 9, 8)
    assert row["faces_per_frame"] == 2.0
    assert row["latency_frames"] == 35  # the frames at 10.0 s and 10.5 s are in the warm-up
    assert row["latency_p50_ms"] == pytest.approx(100.0)
    assert row["latency_p95_ms"] == pytest.approx(100.0)
    # 36 intervals between the first commit (10.6 s: the 2nd frame's) and the last (28.1 s).
    assert row["sink_fps"] == pytest.approx(36 / 17.5)
    assert row["nodes"]["sink"]["cpu_percent"] == pytest.approx(50.0)
    assert row["nodes"]["sink"]["peak_rss_mib"] == 2.0


def test_summarise_without_node_counters_leaves_them_unknown() -> None:
    sink_only = LOG.splitlines()[-1]
    row = summarise(2.0, 40, sink_only, fake_watcher({1: 2}, 1), ProcessSampler(0), warmup_s=0.0)
    assert row["sink_frames"] == 37
    assert row["published"] is row["dropped"] is row["dropped_camera_detector"] is row["described"] is None


def test_summarise_without_rows_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no event row"):
        summarise(2.0, 40, LOG, fake_watcher({}, 0), ProcessSampler(0), warmup_s=1.0)


def camera_row(published: int | None, sink_frames: int, sink_fps: float, cpu: float, rss: float) -> dict:
    counts = dict.fromkeys(["max_frames", "slots_skipped", "detector_frames", "detections", "described"], 1)
    return {
        **counts,
        "estimated": 1,
        "camera_fps": 12.0,
        "published": published,
        "sink_frames": sink_frames,
        "dropped_camera_detector": 0,
        "dropped_detector_sink": 0,
        "dropped": None if published is None else published - sink_frames,
        "sink_fps": sink_fps,
        "frames_with_rows": 10,
        "faces": 15,
        "nodes": {"identity": {"cpu_percent": cpu, "peak_rss_mib": rss}},
    }


def test_combine_cameras_sums_counts_pools_latency_and_takes_the_largest_rss() -> None:
    row = combine_cameras(
        PER_TRACK,
        [camera_row(300, 300, 11.9, 40.0, 200.0), camera_row(300, 290, 11.5, 30.0, 250.0)],
        [10.0, 30.0, 20.0],
    )
    assert (row["mode"], row["cameras"], row["camera_fps"]) == (PER_TRACK, 2, 12.0)
    assert (row["published"], row["sink_frames"], row["dropped"]) == (600, 590, 10)
    assert row["sink_fps"] == pytest.approx(23.4)
    assert row["faces_per_frame"] == 1.5
    assert (row["latency_frames"], row["latency_p50_ms"], row["latency_p95_ms"]) == (3, 20.0, 30.0)
    assert row["nodes"]["identity"] == {"cpu_percent": 70.0, "peak_rss_mib": 250.0}
    unknown = combine_cameras(
        PER_TRACK, [camera_row(None, 300, 12.0, 1.0, 1.0), camera_row(300, 300, 12.0, 1.0, 1.0)], []
    )
    assert unknown["published"] is None and unknown["dropped"] is None


def test_median_of_runs_per_number_and_per_node_then_sustained() -> None:
    runs = [
        {
            "mode": PER_TRACK,
            "cameras": 1,
            "camera_fps": 12.0,
            "slots_skipped": 0,
            "sink_fps": fps,
            "dropped": dropped,
            "nodes": {"camera": {"cpu_percent": cpu, "peak_rss_mib": 99.0}},
        }
        for fps, dropped, cpu in [(11.0, 1, 10.0), (12.0, None, 30.0), (11.9, 0, float("nan"))]
    ]
    row = median_of_runs(runs)
    assert (row["mode"], row["cameras"], row["camera_fps"]) == (PER_TRACK, 1, 12.0)
    assert row["sink_fps"] == 11.9
    assert row["dropped"] == 0.5  # missing values are skipped
    assert row["nodes"]["camera"] == {"cpu_percent": 20.0, "peak_rss_mib": 99.0}
    assert not row["sustained"]  # frames were dropped
    assert median_of_runs(runs[2:])["sustained"]
    assert not median_of_runs([{**runs[2], "sink_fps": 11.0}])["sustained"]  # the sink fell behind


def test_comparison_ratio_and_most_cameras_sustained() -> None:
    results = [
        {"mode": PER_FRAME, "cameras": 1, "sink_fps": 2.0, "sustained": False},
        {"mode": PER_TRACK, "cameras": 1, "sink_fps": 12.0, "sustained": True},
        {"mode": PER_TRACK, "cameras": 2, "sink_fps": 23.9, "sustained": True},
        {"mode": PER_TRACK, "cameras": 4, "sink_fps": 30.0, "sustained": False},
    ]
    assert comparison(results) == {
        "sink_fps_ratio_per_track_to_per_frame": {"1": 6.0},
        "most_cameras_sustained": {PER_FRAME: 0, PER_TRACK: 2},
    }
