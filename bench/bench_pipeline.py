"""End to end: the whole local graph (``launch/local.launch.yaml`` under ``graph_launch``, one
process per node over DDS) on 720p frames with faces, at several camera rates.

Per rate it reports the frames/s the graph sustains at its end (sink frames over the time between
the first and the last committed event row), the frames lost on the way (camera published - sink
received, from their final log lines), capture -> event-row latency p50/p95, and CPU % and peak
RSS of each node process.

How: the camera plays a clip in a loop (``max_frames`` = rate x ``--seconds``), letterboxed to
1280x720. The bench polls the sink's SQLite file every ``POLL_S`` (read-only, WAL) and records
when each frame's rows first appear; latency = that time - the row's ``stamp_ns`` (the camera's
capture time, same host clock), so it is late by up to ``POLL_S``. Frames captured in the first
``--warmup-s`` are left out of the latency (first model calls allocate). Frames without a face
write no row, so they count in the frame totals but not in the latency. CPU % (100 = one core)
and peak RSS (``VmHWM``) come from ``/proc`` for each child process of the launcher, CPU over the
same first-to-last-row window. The bench itself, polling, costs a few % of a core.

    OMP_NUM_THREADS=1 python bench/bench_pipeline.py [--rates 2,4,8,12] [--seconds 25] [--json]
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
"""The sink ends the graph this long after its last frame (shorter than the launch default)."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PUBLISHED = re.compile(r"\[camera\].*published (\d+) frames.*?(\d+) slots skipped")
SINK_FRAMES = re.compile(r"\[sink\].*after (\d+) frames")


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


def run_graph(args: argparse.Namespace, rate: float, clip: Path) -> dict:
    """One graph run at ``rate`` fps; the measurements of the module docstring."""
    frames = round(rate * args.seconds)
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as folder:
        database = Path(folder) / "events.sqlite"
        command = [
            graph_launch_command(),
            str(args.launch_file.resolve()),
            f"source:={clip}",
            f"fps:={rate}",
            "loop:=true",
            f"max_frames:={frames}",
            f"detector:={args.detector}",
            f"detect_scale:={args.detect_scale}",
            f"agegender_backend:={args.agegender}",
            f"gallery:={Path(folder) / 'gallery.sqlite'}",
            f"database:={database}",
            "log_frames:=false",
            f"exit_when_idle_s:={EXIT_WHEN_IDLE_S}",
        ]
        environment = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        launcher = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(launcher.stdout), daemon=True)
        reader.start()
        sampler, watcher = ProcessSampler(launcher.pid), EventWatcher(database)
        deadline = time.monotonic() + args.seconds + args.timeout_s
        next_sample = 0.0
        try:
            while launcher.poll() is None:
                watcher.poll()
                if time.monotonic() >= next_sample:
                    sampler.sample()
                    next_sample = time.monotonic() + SAMPLE_S
                if time.monotonic() > deadline:
                    launcher.send_signal(signal.SIGINT)  # the launcher stops its nodes cleanly
                    launcher.wait(timeout=30)
                    break
                time.sleep(POLL_S)
            watcher.poll()
        finally:
            watcher.close()
            if launcher.poll() is None:
                launcher.kill()
            reader.join(timeout=5)
        if launcher.returncode != 0:
            tail = "".join(lines[-15:])
            raise RuntimeError(f"graph_launch exited {launcher.returncode} at {rate} fps:\n{tail}")
    return summarise(rate, frames, "".join(lines), watcher, sampler, args.warmup_s)


def summarise(
    rate: float, frames: int, log: str, watcher: EventWatcher, sampler: ProcessSampler, warmup_s: float
) -> dict:
    published = PUBLISHED.search(log)
    sink = SINK_FRAMES.search(log)
    published_frames = int(published.group(1)) if published else None
    sink_frames = int(sink.group(1)) if sink else None
    seen = watcher.first_seen_ns
    if not seen:
        raise RuntimeError(f"no event row written at {rate} fps (no faces found?)")
    first_stamp = min(seen)
    latencies_ms = [(t - stamp) / 1e6 for stamp, t in seen.items() if stamp >= first_stamp + warmup_s * 1e9]
    first_commit, last_commit = min(seen.values()), max(seen.values())
    span_s = (last_commit - first_commit) / 1e9
    return {
        "camera_fps": rate,
        "max_frames": frames,
        "published": published_frames,
        "slots_skipped": int(published.group(2)) if published else None,
        "sink_frames": sink_frames,
        "dropped": None if None in (published_frames, sink_frames) else published_frames - sink_frames,
        "sink_fps": (sink_frames - 1) / span_s if sink_frames and span_s > 0 else float("nan"),
        "frames_with_rows": len(seen),
        "faces_per_frame": watcher.faces / len(seen),
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


def median_of_runs(runs: list[dict]) -> dict:
    """One row per rate: the median of each number over the repeated runs."""

    def middle(values: list) -> float | None:
        numbers = [v for v in values if v is not None and v == v]
        return statistics.median(numbers) if numbers else None

    row = {key: middle([run[key] for run in runs]) for key in runs[0] if key != "nodes"}
    names = sorted({name for run in runs for name in run["nodes"]})
    row["nodes"] = {
        name: {
            metric: middle([run["nodes"][name][metric] for run in runs if name in run["nodes"]])
            for metric in ("cpu_percent", "peak_rss_mib")
        }
        for name in names
    }
    return row


def tables(report: dict) -> str:
    rows = report["results"]
    graph = format_table(
        ["camera fps", "published", "sink frames", "dropped", "sink fps", "faces/frame", "p50 ms", "p95 ms"],
        [
            [
                f"{r['camera_fps']:g}",
                r["published"],
                r["sink_frames"],
                r["dropped"],
                r["sink_fps"],
                r["faces_per_frame"],
                r["latency_p50_ms"],
                r["latency_p95_ms"],
            ]
            for r in rows
        ],
    )
    names = list(rows[0]["nodes"])
    nodes = format_table(
        ["node", *(f"CPU% @{r['camera_fps']:g}" for r in rows), "peak RSS MiB"],
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
    setup = report["setup"]
    return (
        f"{describe_machine(report['machine'])}\n"
        f"{setup['launch_file']}: {setup['clip']} letterboxed to 1280x720, {setup['seconds']:g} s per rate, "
        f"detector {setup['detector']} @ scale {setup['detect_scale']}, age/gender {setup['agegender']}, "
        f"median of {setup['repeats']} run(s)\n{graph}\n\n{nodes}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="2,4,8,12", help="comma-separated camera rates (fps)")
    parser.add_argument("--seconds", type=float, default=25.0, help="camera run time per rate")
    parser.add_argument("--repeats", type=int, default=1, help="runs per rate (median reported)")
    parser.add_argument("--video", type=Path, default=None, help="clip (default: the street clip)")
    parser.add_argument("--detector", default="hog", help="haar | hog | cnn")
    parser.add_argument("--detect-scale", type=float, default=0.5)
    parser.add_argument("--agegender", default="dlib_onnx", help="age/gender backend")
    parser.add_argument("--launch-file", type=Path, default=LAUNCH_FILE)
    parser.add_argument("--warmup-s", type=float, default=2.0, help="leave out of the latency")
    parser.add_argument("--timeout-s", type=float, default=120.0, help="beyond --seconds, per run")
    add_output_arguments(parser)
    args = parser.parse_args()
    clip = (args.video or default_clip()).resolve()
    results = []
    for rate in (float(r) for r in args.rates.split(",")):
        runs = [run_graph(args, rate, clip) for _ in range(args.repeats)]
        results.append(median_of_runs(runs))
        print(
            f"... {rate:g} fps: sink {results[-1]['sink_fps']:.1f} fps, "
            f"p50 {results[-1]['latency_p50_ms']:.0f} ms",
            file=sys.stderr,
        )
    report = {
        "machine": machine_info(),
        "setup": {
            "launch_file": os.path.relpath(args.launch_file.resolve(), REPO_ROOT),
            "clip": clip.name,
            "seconds": args.seconds,
            "repeats": args.repeats,
            "detector": args.detector,
            "detect_scale": args.detect_scale,
            "agegender": args.agegender,
            "warmup_s": args.warmup_s,
            "poll_ms": POLL_S * 1000,
        },
        "results": results,
    }
    emit(args, report, lambda: tables(report))


if __name__ == "__main__":
    main()
