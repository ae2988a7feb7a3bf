"""End to end: the whole local graph (``launch/local.launch.yaml`` under ``graph_launch``, one
process per node over DDS) on 720p frames with faces at 12 frames/s, in two modes side by side:

- ``per-frame``, the seed's way: the detector on every frame, every face untracked, so identity
  describes and age/gender estimates every face of every frame (``detect_every:=1
  tracking:=false``);
- ``per-track``, the default: the detector on every ``--detect-every``-th frame, a tracker in
  between, identity and age/gender once per track on its best views.

Per mode and number of cameras it reports the frames/s reaching the database (sink frames over the
time between the first and the last committed event row) against the frames published, the frames
lost and where (camera -> detector: the best-effort image queue; detector -> sink: the reliable
faces queues), from the nodes' final log lines, capture -> event-row latency p50/p95, the work done
(detections, descriptors, age/gender estimates), and CPU % and peak RSS of each node; then the
ratio per-track / per-frame of the frames/s and the most cameras each mode sustained (every frame
published and written, none dropped).

How: the camera plays a clip in a loop (``max_frames`` = fps x ``--seconds``), letterboxed to
1280x720. N cameras are N copies of the graph (one ``graph_launch`` each, camera ids cam1..camN,
each with its own gallery and database) run at once; a mode tries more cameras only while the
fewer were sustained. The bench polls each sink's SQLite file every ``POLL_S`` (read-only, WAL) and
records when each frame's rows first appear; latency = that time - the row's ``stamp_ns`` (the
camera's capture time, same host clock), so it is late by up to ``POLL_S``. Frames captured in
the first ``--warmup-s`` are left out of the latency (first model calls allocate). Frames without
a face write no row, so they count in the frame totals but not in the latency. CPU % (100 = one
core; summed over the cameras' copies of a node) and peak RSS (``VmHWM``) come from ``/proc`` for
each child process of the launchers, CPU over the same first-to-last-row window. The bench itself,
polling, costs a few % of a core.

    OMP_NUM_THREADS=1 python bench/bench_pipeline.py [--cameras 1,2,4] [--seconds 25] [--json]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench_common import (
    REPO_ROOT,
    add_output_arguments,
    default_clip,
    describe_machine,
    emit,
    format_table,
    machine_info,
    percentile,
)

LAUNCH_FILE = REPO_ROOT / "launch" / "local.launch.yaml"
POLL_S = 0.02
"""Event-table poll period: the latency resolution."""
SAMPLE_S = 0.5
"""/proc sampling period for CPU and memory."""
EXIT_WHEN_IDLE_S = 3.0
"""The sink ends the graph this long after its last frame; every node then logs its final
``counters:`` line as it stops, which the tables read."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
DOMAIN_ID = 60 + os.getpid() % 40
"""The graphs' ``ROS_DOMAIN_ID``: a domain of their own, away from 0 and from the tests' domains,
so that no other graph on the machine (a test's ``cam1``) feeds or drains them."""
PER_FRAME, PER_TRACK = "per-frame", "per-track"
SUSTAINED_FRACTION = 0.95
"""A run is sustained when no frame was skipped or dropped and the sinks kept up with the cameras
to within this fraction of their frames/s."""
# The nodes' final ``counters: name=value ...`` lines (``GraphNode.close``), by launch label.
PUBLISHED = re.compile(r"\[camera\].*counters: .*\bpublished=(\d+).*\bslots_skipped=(\d+)")
SINK_FRAMES = re.compile(r"\[sink\].*counters: .*\bframes=(\d+)")
DETECTOR_COUNTS = re.compile(r"\[face_detect\].*counters: .*\bframes=(\d+).*\bdetections=(\d+)")
DESCRIBED = re.compile(r"\[identity\].*counters: .*\bdescribed=(\d+)")
ESTIMATED = re.compile(r"\[agegender\].*counters: .*\bestimated=(\d+)")


# --- /proc: pure parsers (unit-tested) and the readers around them ---


def parse_stat(text: str) -> tuple[int, int]:
    """``(ppid, utime + stime in clock ticks)`` from ``/proc/<pid>/stat`` text.

    The command name (2nd field) is in parentheses and may hold spaces or ')', so the fields are
    counted from the last ')'.
    """
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def parse_vm_hwm_kib(status: str) -> int:
    """Peak resident set size (``VmHWM``, KiB) from ``/proc/<pid>/status`` text; 0 when absent."""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def node_name(argv: Sequence[str]) -> str:
    """A node process's name: its ``__node:=NAME`` remap (what the launch file calls it), else the
    executable's file name."""
    for arg in argv:
        if arg.startswith("__node:="):
            return arg.removeprefix("__node:=")
    script = next((a for a in argv[1:2] if not a.startswith("-")), argv[0] if argv else "?")
    return Path(script).name


def child_pids(parent: int, proc: Path = Path("/proc")) -> list[int]:
    """Processes whose parent is ``parent`` (a scan of ``/proc/<pid>/stat``)."""
    children = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid, _ = parse_stat((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue  # exited meanwhile, or not a process entry
        if ppid == parent:
            children.append(int(entry.name))
    return sorted(children)


@dataclass
class NodeSamples:
    name: str
    times_ns: list[int] = field(default_factory=list)
    ticks: list[int] = field(default_factory=list)
    peak_rss_kib: int = 0

    def cpu_percent(self, start_ns: int, end_ns: int) -> float:
        """CPU time over wall time between the samples nearest ``start_ns`` and ``end_ns``."""
        inside = [i for i, t in enumerate(self.times_ns) if start_ns <= t <= end_ns]
        if len(inside) < 2:
            return float("nan")
        first, last = inside[0], inside[-1]
        seconds = (self.times_ns[last] - self.times_ns[first]) / 1e9
        return 100.0 * (self.ticks[last] - self.ticks[first]) / CLOCK_TICKS / seconds


class ProcessSampler:
    """CPU ticks and peak RSS of each child of the launcher, sampled while the graph runs."""

    def __init__(self, launcher_pid: int) -> None:
        self.launcher_pid = launcher_pid
        self.nodes: dict[int, NodeSamples] = {}

    def sample(self) -> None:
        now = time.time_ns()
        for pid in child_pids(self.launcher_pid):
            base = Path("/proc") / str(pid)
            try:
                if pid not in self.nodes:
                    argv = (base / "cmdline").read_bytes().decode(errors="replace").split("\0")
                    self.nodes[pid] = NodeSamples(node_name([a for a in argv if a]))
                _, ticks = parse_stat((base / "stat").read_text())
                hwm = parse_vm_hwm_kib((base / "status").read_text())
            except (OSError, ValueError, IndexError):
                continue  # the node exited between the scan and the read
            node = self.nodes[pid]
            node.times_ns.append(now)
            node.ticks.append(ticks)
            node.peak_rss_kib = max(node.peak_rss_kib, hwm)


class EventWatcher:
    """First time each frame's event rows are visible to another reader of the sink's SQLite file."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.first_seen_ns: dict[int, int] = {}
        self.faces = 0
        self._last_rowid = 0
        self._connection: sqlite3.Connection | None = None

    def poll(self) -> None:
        if self._connection is None:
            if not self.database.is_file():
                return
            self._connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            rows = self._connection.execute(
                "SELECT rowid, stamp_ns FROM face_events WHERE rowid > ? ORDER BY rowid", (self._last_rowid,)
            ).fetchall()
        except sqlite3.OperationalError:
            return  # the sink has not created the table yet
        now = time.time_ns()
        for rowid, stamp_ns in rows:
            self._last_rowid = rowid
            self.faces += 1
            self.first_seen_ns.setdefault(stamp_ns, now)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


def graph_launch_command() -> str:
    """The ``graph_launch`` console script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("graph_launch")
    found = str(beside) if beside.is_file() else shutil.which("graph_launch")
    if found is None:
        raise SystemExit("graph_launch not found: pip install -e ros2_ws/src/graph_launcher")
    return found


def mode_arguments(mode: str, detect_every: int) -> list[str]:
    """The launch arguments of a mode: see the module docstring."""
    if mode == PER_FRAME:
        return ["detect_every:=1", "tracking:=false"]
    if mode == PER_TRACK:
        return [f"detect_every:={detect_every}", "tracking:=true"]
    raise ValueError(f"unknown mode {mode!r}: {PER_FRAME} | {PER_TRACK}")


@dataclass
class GraphRun:
    """One camera's copy of the graph while it runs: its launcher, its output, what is sampled."""

    camera_id: str
    launcher: subprocess.Popen[str]
    sampler: ProcessSampler
    watcher: EventWatcher
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.launcher.stdout), daemon=True)
        self.reader.start()


def start_graph(args: argparse.Namespace, mode: str, camera_id: str, clip: Path, folder: Path) -> GraphRun:
    """Launch one camera's graph, with its gallery and database in ``folder``."""
    database = folder / f"{camera_id}_events.sqlite"
    command = [
        graph_launch_command(),
        str(args.launch_file.resolve()),
        f"camera_id:={camera_id}",
        f"source:={clip}",
        f"fps:={args.fps}",
        "loop:=true",
        f"max_frames:={round(args.fps * args.seconds)}",
        f"detector:={args.detector}",
        f"detect_scale:={args.detect_scale}",
        *mode_arguments(mode, args.detect_every),
        f"agegender_backend:={args.agegender}",
        f"gallery:={folder / f'{camera_id}_gallery.sqlite'}",
        f"database:={database}",
        "log_frames:=false",
        f"exit_when_idle_s:={EXIT_WHEN_IDLE_S}",
    ]
    environment = {
        **os.environ,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
        "ROS_DOMAIN_ID": str(args.domain_id),
    }
    launcher = subprocess.Popen(
        command, cwd=REPO_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return GraphRun(camera_id, launcher, ProcessSampler(launcher.pid), EventWatcher(database))


def run_graphs(args: argparse.Namespace, mode: str, cameras: int, clip: Path) -> dict:
    """``cameras`` copies of the graph at once in ``mode``; the measurements of the module docstring."""
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as folder:
        runs = [start_graph(args, mode, f"cam{i + 1}", clip, Path(folder)) for i in range(cameras)]
        deadline = time.monotonic() + args.seconds + args.timeout_s
        next_sample = 0.0
        try:
            while any(run.launcher.poll() is None for run in runs):
                for run in runs:
                    run.watcher.poll()
                if time.monotonic() >= next_sample:
                    for run in runs:
                        run.sampler.sample()
                    next_sample = time.monotonic() + SAMPLE_S
                if time.monotonic() > deadline:
                    for run in runs:
                        if run.launcher.poll() is None:
                            run.launcher.send_signal(signal.SIGINT)  # the launcher stops its nodes cleanly
                    for run in runs:
                        run.launcher.wait(timeout=30)
                    break
                time.sleep(POLL_S)
            for run in runs:
                run.watcher.poll()
        finally:
            for run in runs:
                run.watcher.close()
                if run.launcher.poll() is None:
                    run.launcher.kill()
                run.reader.join(timeout=5)
    for run in runs:
        if run.launcher.returncode != 0:
            tail = "".join(run.lines[-15:])
            raise RuntimeError(
                f"graph_launch {run.camera_id} ({mode}) exited {run.launcher.returncode}:\n{tail}"
            )
    frames = round(args.fps * args.seconds)
    per_camera = [
        summarise(args.fps, frames, "".join(run.lines), run.watcher, run.sampler, args.warmup_s)
        for run in runs
    ]
    latencies = [ms for run in runs for ms in frame_latencies_ms(run.watcher.first_seen_ns, args.warmup_s)]
    return combine_cameras(mode, per_camera, latencies)


def last_count(pattern: re.Pattern[str], log: str, group: int = 1) -> int | None:
    """``group`` of the last line of ``log`` matching ``pattern`` (a node's latest counters)."""
    matches = list(pattern.finditer(log))
    return int(matches[-1].group(group)) if matches else None


def difference(minuend: int | None, subtrahend: int | None) -> int | None:
    return None if minuend is None or subtrahend is None else minuend - subtrahend


def frame_latencies_ms(first_seen_ns: dict[int, int], warmup_s: float) -> list[float]:
    """Capture -> first visible row, in ms, of each frame captured after the first ``warmup_s``."""
    if not first_seen_ns:
        return []
    start = min(first_seen_ns) + warmup_s * 1e9
    return [(seen - stamp) / 1e6 for stamp, seen in first_seen_ns.items() if stamp >= start]


def summarise(
    rate: float, frames: int, log: str, watcher: EventWatcher, sampler: ProcessSampler, warmup_s: float
) -> dict:
    """One camera's graph run: its frames at each stage (from the nodes' log lines), latency, CPU, RSS."""
    published = last_count(PUBLISHED, log)
    detector_frames = last_count(DETECTOR_COUNTS, log)
    sink_frames = last_count(SINK_FRAMES, log)
    seen = watcher.first_seen_ns
    if not seen:
        raise RuntimeError(f"no event row written at {rate} fps (no faces found?)")
    first_stamp = min(seen)
    latencies_ms = frame_latencies_ms(seen, warmup_s)
    first_commit, last_commit = min(seen.values()), max(seen.values())
    span_s = (last_commit - first_commit) / 1e9
    return {
        "camera_fps": rate,
        "max_frames": frames,
        "published": published,
        "slots_skipped": last_count(PUBLISHED, log, 2),
        "detector_frames": detector_frames,
        "sink_frames": sink_frames,
        "dropped_camera_detector": difference(published, detector_frames),
        "dropped_detector_sink": difference(detector_frames, sink_frames),
        "dropped": difference(published, sink_frames),
        "sink_fps": (sink_frames - 1) / span_s if sink_frames and span_s > 0 else float("nan"),
        "frames_with_rows": len(seen),
        "faces": watcher.faces,
        "faces_per_frame": watcher.faces / len(seen),
        "detections": last_count(DETECTOR_COUNTS, log, 2),
        "described": last_count(DESCRIBED, log),
        "estimated": last_count(ESTIMATED, log),
        "latency_frames": len(latencies_ms),
        "latency_p50_ms": percentile(latencies_ms, 0.50),
        "latency_p95_ms": percentile(latencies_ms, 0.95),
        "nodes": {
            node.name: {
                "cpu_percent": node.cpu_percent(first_stamp, last_commit),
                "peak_rss_mib": node.peak_rss_kib / 1024,
            }
            for node in sampler.nodes.values()
        },
    }


SUMMED = (
    "max_frames",
    "published",
    "slots_skipped",
    "detector_frames",
    "sink_frames",
    "dropped_camera_detector",
    "dropped_detector_sink",
    "dropped",
    "sink_fps",
    "frames_with_rows",
    "faces",
    "detections",
    "described",
    "estimated",
)
"""The numbers of :func:`summarise` that add up over cameras (None when a camera lacks one)."""


def combine_cameras(mode: str, per_camera: list[dict], latencies_ms: list[float]) -> dict:
    """The cameras' graphs as one row: counts and frames/s summed, latencies pooled, each node's
    CPU summed and peak RSS the largest over its copies."""
    row: dict = {"mode": mode, "cameras": len(per_camera), "camera_fps": per_camera[0]["camera_fps"]}
    for key in SUMMED:
        values = [camera[key] for camera in per_camera]
        row[key] = None if None in values else sum(values)
    row["faces_per_frame"] = row["faces"] / row["frames_with_rows"]
    row["latency_frames"] = len(latencies_ms)
    row["latency_p50_ms"] = percentile(latencies_ms, 0.50)
    row["latency_p95_ms"] = percentile(latencies_ms, 0.95)
    names = sorted({name for camera in per_camera for name in camera["nodes"]})
    row["nodes"] = {
        name: {
            "cpu_percent": sum(c["nodes"][name]["cpu_percent"] for c in per_camera if name in c["nodes"]),
            "peak_rss_mib": max(c["nodes"][name]["peak_rss_mib"] for c in per_camera if name in c["nodes"]),
        }
        for name in names
    }
    return row


LABELS = ("mode", "cameras", "camera_fps")
"""What a row is about rather than what was measured: the same in every repeat."""


def median_of_runs(runs: list[dict]) -> dict:
    """One row per mode and camera count: the median of each number over the repeated runs, and
    whether that median run was sustained."""

    def middle(values: list) -> float | None:
        numbers = [v for v in values if v is not None and v == v]
        return statistics.median(numbers) if numbers else None

    row = {
        key: runs[0][key] if key in LABELS else middle([run[key] for run in runs])
        for key in runs[0]
        if key != "nodes"
    }
    names = sorted({name for run in runs for name in run["nodes"]})
    row["nodes"] = {
        name: {
            metric: middle([run["nodes"][name][metric] for run in runs if name in run["nodes"]])
            for metric in ("cpu_percent", "peak_rss_mib")
        }
        for name in names
    }
    row["sustained"] = is_sustained(row)
    return row


def is_sustained(row: dict) -> bool:
    """Every frame published on time and written, the sinks at the cameras' frames/s."""
    return (
        row["dropped"] == 0
        and row["slots_skipped"] == 0
        and (row["sink_fps"] or 0.0) >= SUSTAINED_FRACTION * row["camera_fps"] * row["cameras"]
    )


def comparison(results: list[dict]) -> dict:
    """Per camera count run in both modes, per-track / per-frame sink frames/s; per mode, the most
    cameras sustained (0: not even one)."""
    by_key = {(r["mode"], r["cameras"]): r for r in results}
    ratios = {
        str(cameras): by_key[(PER_TRACK, cameras)]["sink_fps"] / by_key[(PER_FRAME, cameras)]["sink_fps"]
        for mode, cameras in by_key
        if mode == PER_TRACK and by_key.get((PER_FRAME, cameras), {}).get("sink_fps")
    }
    most = {
        mode: max((r["cameras"] for r in results if r["mode"] == mode and r["sustained"]), default=0)
        for mode in dict.fromkeys(r["mode"] for r in results)
    }
    return {"sink_fps_ratio_per_track_to_per_frame": ratios, "most_cameras_sustained": most}


FRAME_COLUMNS = (
    "mode",
    "cameras",
    "fps in",
    "published",
    "skipped",
    "at detector",
    "at sink",
    "dropped cam>det",
    "det>sink",
    "sink fps",
    "sustained",
)


def tables(report: dict) -> str:
    rows = report["results"]
    frames = format_table(
        FRAME_COLUMNS,
        [
            [
                r["mode"],
                r["cameras"],
                r["camera_fps"] * r["cameras"],
                r["published"],
                r["slots_skipped"],
                r["detector_frames"],
                r["sink_frames"],
                r["dropped_camera_detector"],
                r["dropped_detector_sink"],
                r["sink_fps"],
                "yes" if r["sustained"] else "no",
            ]
            for r in rows
        ],
    )
    work = format_table(
        ["mode", "cameras", "faces/frame", "detections", "described", "estimated", "p50 ms", "p95 ms"],
        [
            [
                r["mode"],
                r["cameras"],
                f"{r['faces_per_frame']:.2f}",
                r["detections"],
                r["described"],
                r["estimated"],
                r["latency_p50_ms"],
                r["latency_p95_ms"],
            ]
            for r in rows
        ],
        float_digits=0,
    )
    names = sorted({name for r in rows for name in r["nodes"]})
    nodes = format_table(
        ["node", *(f"CPU% {r['mode']} x{r['cameras']}" for r in rows), "peak RSS MiB"],
        [
            [
                name,
                *(r["nodes"].get(name, {}).get("cpu_percent", float("nan")) for r in rows),
                max(r["nodes"].get(name, {}).get("peak_rss_mib") or 0 for r in rows),
            ]
            for name in names
        ],
        float_digits=0,
    )
    setup, compared = report["setup"], report["comparison"]
    ratios = compared["sink_fps_ratio_per_track_to_per_frame"]
    most = compared["most_cameras_sustained"]
    return (
        f"{describe_machine(report['machine'])}\n"
        f"{setup['launch_file']}: {setup['clip']} letterboxed to 1280x720 at {setup['fps']:g} fps a camera, "
        f"{setup['seconds']:g} s a run, detector {setup['detector']} @ scale {setup['detect_scale']} "
        f"(per-track: every {setup['detect_every']} frames), age/gender {setup['agegender']}, "
        f"median of {setup['repeats']} run(s), load average after the runs {setup['load_avg_after']}\n"
        f"{frames}\n\n{work}\n\n{nodes}\n\n"
        "sink frames/s, per-track / per-frame: "
        + (", ".join(f"{ratio:.2f} at {n} camera(s)" for n, ratio in ratios.items()) or "n/a")
        + f"\nmost {setup['fps']:g} fps cameras sustained (no frame dropped): "
        + ", ".join(f"{mode} {n}" for mode, n in most.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default=f"{PER_FRAME},{PER_TRACK}", help="comma-separated modes")
    parser.add_argument(
        "--cameras", default="1", help="comma-separated camera counts (each mode stops at a failure)"
    )
    parser.add_argument("--fps", type=float, default=12.0, help="frames/s of each camera")
    parser.add_argument("--seconds", type=float, default=25.0, help="camera run time per run")
    parser.add_argument("--repeats", type=int, default=1, help="runs per row (median reported)")
    parser.add_argument("--video", type=Path, default=None, help="clip (default: the street clip)")
    parser.add_argument("--detector", default="retinaface", help="retinaface | haar | hog | cnn")
    parser.add_argument("--detect-scale", type=float, default=1.0)
    parser.add_argument("--detect-every", type=int, default=3, help="the per-track mode's detector period")
    parser.add_argument("--agegender", default="dlib_onnx", help="age/gender backend")
    parser.add_argument("--launch-file", type=Path, default=LAUNCH_FILE)
    parser.add_argument("--domain-id", type=int, default=DOMAIN_ID, help="ROS_DOMAIN_ID of the graphs")
    parser.add_argument("--warmup-s", type=float, default=2.0, help="leave out of the latency")
    parser.add_argument("--timeout-s", type=float, default=120.0, help="beyond --seconds, per run")
    add_output_arguments(parser)
    args = parser.parse_args()
    modes = args.modes.split(",")
    for mode in modes:
        mode_arguments(mode, args.detect_every)  # an unknown mode fails before any run
    clip = (args.video or default_clip()).resolve()
    machine = machine_info()
    results = []
    for mode in modes:
        for cameras in sorted(int(c) for c in args.cameras.split(",")):
            row = median_of_runs([run_graphs(args, mode, cameras, clip) for _ in range(args.repeats)])
            results.append(row)
            print(
                f"... {mode} x{cameras}: sink {row['sink_fps']} fps, dropped {row['dropped']}, "
                f"p95 {row['latency_p95_ms']} ms, load {os.getloadavg()[0]:.2f}",
                file=sys.stderr,
            )
            if not row["sustained"]:
                break  # more cameras would not be sustained either
    report = {
        "machine": machine,
        "setup": {
            "launch_file": os.path.relpath(args.launch_file.resolve(), REPO_ROOT),
            "clip": clip.name,
            "fps": args.fps,
            "seconds": args.seconds,
            "repeats": args.repeats,
            "detector": args.detector,
            "detect_scale": args.detect_scale,
            "detect_every": args.detect_every,
            "agegender": args.agegender,
            "warmup_s": args.warmup_s,
            "domain_id": args.domain_id,
            "poll_ms": POLL_S * 1000,
            "load_avg_after": [round(load, 2) for load in os.getloadavg()],
        },
        "results": results,
        "comparison": comparison(results),
    }
    emit(args, report, lambda: tables(report))


if __name__ == "__main__":
    main()
