"""What every bench shares: where the data is, real 720p frames, the machine it ran on,
percentiles, the printed table and the ``--json`` / ``--json-out`` output.

Why one module: results are only comparable across benches and commits when they state the
machine, pick frames and summarise timings the same way. Import it from a bench with
``from bench_common import ...`` (Python puts the script's folder, ``bench/``, on ``sys.path``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from face_eval.data_paths import data_root

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = data_root(REPO_ROOT)
"""``../shared/data`` when present (``FACE_SHARED_DATA=none`` hides it), else the small committed
``samples/`` (same layout)."""
FRAME_SIZE = (1280, 720)
"""The camera's default output size (``camera_node`` ``width`` x ``height``)."""
STREET_CLIP = "facenet_pytorch_video.mp4"
"""1080p pedestrians walking towards the camera: the nearest thing to a shop entrance, and
shrunk (not enlarged) to 720p like a real 1080p sensor's frames."""
FALLBACK_CLIP = "short_hamilton_clip.mp4"
"""640x360 stage clip, the only video in ``samples/``; enlarged to 720p it compresses better."""


def default_clip(video_dir: Path | None = None) -> Path:
    """The 1080p street clip when the data folder has it, else the bundled 360p clip."""
    folder = video_dir or DATA_ROOT / "video"
    street = folder / STREET_CLIP
    return street if street.is_file() else REPO_ROOT / "samples" / "video" / FALLBACK_CLIP


def video_frames(paths: Iterable[Path], count: int, consecutive: bool = False) -> list[Any]:
    """``count`` frames of each clip, letterboxed to 720p exactly as ``camera_node`` publishes
    them: evenly spaced over the clip, or the first ``count`` in a row (a camera's stream)."""
    import cv2
    import numpy as np
    from camera_node.resize import ResizeMode, fit_to_size

    frames = []
    for path in paths:
        capture = cv2.VideoCapture(str(path))
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        indices = range(count) if consecutive else np.linspace(0, max(total - 1, 0), count).astype(int)
        for index in indices:
            if not consecutive:
                capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(fit_to_size(frame, *FRAME_SIZE, ResizeMode.LETTERBOX))
        capture.release()
    return frames


def machine_info() -> dict[str, Any]:
    """The machine a result belongs to: CPU model, cores this process may use, RAM, load."""
    return {
        "cpu_model": cpu_model(_read_text("/proc/cpuinfo")) or platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "ram_gib": round(mem_total_kib(_read_text("/proc/meminfo")) / 2**20, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def cpu_model(cpuinfo: str) -> str:
    """The first ``model name`` of ``/proc/cpuinfo`` text ('' when absent)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return ""


def mem_total_kib(meminfo: str) -> int:
    """``MemTotal`` of ``/proc/meminfo`` text in KiB (0 when absent)."""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def describe_machine(machine: Mapping[str, Any]) -> str:
    """One line for the top of a printed table."""
    return ", ".join(f"{key}={value}" for key, value in machine.items())


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def median_ms(run: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``run()`` in ms over ``repeat`` calls, after one uncounted warm-up."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]], float_digits: int = 1) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned, floats rounded."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "nan" if value != value else f"{value:.{float_digits}f}"
        return str(value)

    text_rows = [[cell(value) for value in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in text_rows)) for i, h in enumerate(headers)]
    lines = []
    for row in [list(headers), *text_rows]:
        cells = [row[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def format_records(
    columns: Mapping[str, str], records: Iterable[Mapping[str, object]], float_digits: int = 1
) -> str:
    """:func:`format_table` of dicts: ``columns`` maps each header to its record key."""
    return format_table(list(columns), [[r[key] for key in columns.values()] for r in records], float_digits)


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` (JSON instead of the table) and ``--json-out FILE`` (the table and a JSON file)."""
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON object to FILE")


def emit(args: argparse.Namespace, report: Mapping[str, Any], table: Callable[[], str]) -> None:
    """Print the report as JSON or as the table, and write ``--json-out`` when asked."""
    text = json.dumps(report, indent=2)
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(text + "\n")
    print(text if args.json else table())
