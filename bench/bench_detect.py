"""Face detector speed on 720p frames: median ms per frame for each detector and detect_scale.

Frames are real video frames from the data folder's ``video/`` clips, resized to 1280x720 (the
camera default). Run: ``python bench/bench_detect.py [--detectors haar,hog,cnn] [--json]``.
The CNN takes seconds per 720p frame on CPU; ``--budget-s`` caps the time spent per row.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
from face_detect_node.detectors import DETECTORS, make_detector

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DATA_ROOT = SHARED_DATA if SHARED_DATA.is_dir() else REPO_ROOT / "samples"
FRAME_SIZE = (1280, 720)


def video_frames(video_dir: Path, per_video: int) -> list[np.ndarray]:
    """``per_video`` evenly spaced frames of each 16:9 clip, resized to 1280x720."""
    frames = []
    for path in sorted(video_dir.glob("*.mp4")):
        capture = cv2.VideoCapture(str(path))
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        width, height = capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
        if count <= 0 or abs(width / height - 16 / 9) > 0.01:
            continue
        for index in np.linspace(0, count - 1, per_video).astype(int):
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, frame = capture.read()
            if ok:
                frames.append(cv2.resize(frame, FRAME_SIZE, interpolation=cv2.INTER_AREA))
        capture.release()
    return frames


def bench(name: str, scale: float, frames: list[np.ndarray], repeat: int, budget_s: float) -> dict:
    detector = make_detector(name, detect_scale=scale)
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
        "frames": len(times_ms),
        "median_ms": round(statistics.median(times_ms), 1),
        "mean_faces": round(statistics.mean(faces), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detectors", default=",".join(DETECTORS), help="comma-separated backends")
    parser.add_argument("--scales", default="1.0,0.5", help="comma-separated detect_scale values")
    parser.add_argument("--video-dir", type=Path, default=DATA_ROOT / "video")
    parser.add_argument("--frames-per-video", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=30.0, help="stop a row after this long")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    frames = video_frames(args.video_dir, args.frames_per_video)
    if not frames:
        raise SystemExit(f"no 16:9 .mp4 frames found in {args.video_dir}")
    rows = [
        bench(name, float(scale), frames, args.repeat, args.budget_s)
        for name in args.detectors.split(",")
        for scale in args.scales.split(",")
    ]
    machine = {
        "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "opencv_threads": cv2.getNumThreads(),
        "frame": "x".join(map(str, FRAME_SIZE)),
        "distinct_frames": len(frames),
    }
    if args.json:
        print(json.dumps({"machine": machine, "results": rows}, indent=2))
        return
    print(", ".join(f"{k}={v}" for k, v in machine.items()))
    row = "{:<8} {:>5} {:>6} {:>9} {:>11}"
    print(row.format("detector", "scale", "frames", "median ms", "faces/frame"))
    for r in rows:
        print(row.format(r["detector"], r["detect_scale"], r["frames"], r["median_ms"], r["mean_faces"]))


if __name__ == "__main__":
    main()
