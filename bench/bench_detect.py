"""Face detector speed on 720p frames: median ms per frame for each detector and detect_scale.

Frames are real video frames from the data folder's ``video/`` clips, letterboxed to 1280x720 as
``camera_node`` publishes them; each detector is built from ``DetectionConfig`` as the detection
stage builds it (the node's defaults for all a row does not vary), so the times are the node's.
Run: ``python bench/bench_detect.py [--detectors haar,hog,cnn] [--json]``.
The CNN takes seconds per 720p frame on CPU; ``--budget-s`` caps the time spent per row.
``retinaface`` resizes the frame to its own ``input_size`` (longest side), so it gets one row per
``--input-sizes`` value at ``detect_scale`` 1.0 instead of one per scale.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
from bench_common import (
    DATA_ROOT,
    FRAME_SIZE,
    add_output_arguments,
    describe_machine,
    emit,
    format_records,
    machine_info,
    video_frames,
)
from face_detect_node.detection import DetectionConfig
from face_detect_node.detectors import DETECTORS


def bench(
    name: str, scale: float, options: dict[str, int], frames: list[np.ndarray], repeat: int, budget_s: float
) -> dict:
    detector = DetectionConfig(detector=name, detect_scale=scale, **options).make_detector()
    detector.detect(frames[0])  # warm-up: first-call allocations
    times_ms, faces = [], []
    started = time.perf_counter()
    for _ in range(repeat):
        for frame in frames:
            t0 = time.perf_counter()
            found = detector.detect(frame)
            times_ms.append((time.perf_counter() - t0) * 1000)
            faces.append(len(found))
            if time.perf_counter() - started > budget_s:
                break
        else:
            continue
        break
    return {
        "detector": name,
        "detect_scale": scale,
        "options": " ".join(f"{key}={value}" for key, value in options.items()),
        "frames": len(times_ms),
        "median_ms": round(statistics.median(times_ms), 1),
        "mean_faces": round(statistics.mean(faces), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detectors", default=",".join(DETECTORS), help="comma-separated backends")
    parser.add_argument("--scales", default="1.0,0.5", help="comma-separated detect_scale values")
    parser.add_argument(
        "--input-sizes", default="480,640,800,960,1280", help="retinaface: comma-separated input_size values"
    )
    parser.add_argument("--video-dir", type=Path, default=DATA_ROOT / "video")
    parser.add_argument("--frames-per-video", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=30.0, help="stop a row after this long")
    add_output_arguments(parser)
    args = parser.parse_args()

    frames = video_frames(sorted(args.video_dir.glob("*.mp4")), args.frames_per_video)
    if not frames:
        raise SystemExit(f"no .mp4 frames found in {args.video_dir}")
    configs = [
        (name, float(scale), {})
        for name in args.detectors.split(",")
        if name != "retinaface"
        for scale in args.scales.split(",")
    ]
    if "retinaface" in args.detectors.split(","):
        configs += [("retinaface", 1.0, {"input_size": int(size)}) for size in args.input_sizes.split(",")]
    rows = [bench(*config, frames, args.repeat, args.budget_s) for config in configs]
    machine = {
        **machine_info(),
        "opencv_threads": cv2.getNumThreads(),
        "frame": "x".join(map(str, FRAME_SIZE)),
        "distinct_frames": len(frames),
    }
    report = {"machine": machine, "results": rows}

    columns = {
        "detector": "detector",
        "scale": "detect_scale",
        "options": "options",
        "frames": "frames",
        "median ms": "median_ms",
        "faces/frame": "mean_faces",
    }
    emit(args, report, lambda: f"{describe_machine(machine)}\n{format_records(columns, rows, 2)}")


if __name__ == "__main__":
    main()
