"""Milliseconds per face of each age/gender backend, one face per call and batches of 8.

Real face crops (dlib HOG on the labelled age/gender images, 40% zero-padded margin, as the
graph cuts them) go through ``AgeGenderEstimator.estimate``, preprocessing included. Prints a
table (median over repeats) or, with ``--json``, one JSON object.

    python bench/bench_agegender.py [--backends wideresnet_onnx dlib_onnx] [--threads 1] [--json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from bench_common import (
    DATA_ROOT,
    REPO_ROOT,
    add_output_arguments,
    describe_machine,
    emit,
    format_table,
    machine_info,
)

BATCH_SIZES = (1, 8)


def load_crops(data_dir: Path, count: int):
    """``count`` real crops and their face boxes, as the detector node cuts them."""
    import cv2
    from agegender_node.estimators import CROP_MARGIN
    from face_common.faces import FrameRef
    from face_detect_node.detection import detect_faces
    from face_detect_node.detectors import DlibHogDetector

    detector = DlibHogDetector(upsample=0)
    crops, boxes = [], []
    for path in sorted((data_dir / "fairface").glob("*.jpg")):
        faces = detect_faces(cv2.imread(str(path)), detector, FrameRef("bench", 0), CROP_MARGIN).faces
        if faces:
            crops.append(faces[0].crop)
            boxes.append(faces[0].box_in_crop())
        if len(crops) == count:
            return crops, boxes
    raise SystemExit(f"only {len(crops)} faces found in {data_dir}, need {count}")


def bench_backend(name: str, model_dir: Path, threads: int, crops, boxes, repeats: int) -> dict:
    from agegender_node.estimators import create_estimator

    started = time.perf_counter()
    estimator = create_estimator(name, model_dir, threads)
    result = {"backend": name, "load_s": time.perf_counter() - started}
    for batch in BATCH_SIZES:
        estimator.estimate(crops[:batch], boxes[:batch])  # warm-up: lazy allocations, graph tracing
        per_face = []
        for r in range(repeats):
            i = (r * batch) % (len(crops) - batch + 1)
            t0 = time.perf_counter()
            estimator.estimate(crops[i : i + batch], boxes[i : i + batch])
            per_face.append((time.perf_counter() - t0) * 1000 / batch)
        result[f"ms_per_face_batch{batch}"] = statistics.median(per_face)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["wideresnet_onnx", "dlib_onnx", "wideresnet_keras"])
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument("--data", type=Path, default=None, help="age_gender data folder")
    parser.add_argument("--threads", type=int, default=1, help="model threads (the node's num_threads)")
    parser.add_argument("--repeats", type=int, default=5)
    add_output_arguments(parser)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    data_dir = args.data or DATA_ROOT / "age_gender"

    crops, boxes = load_crops(data_dir, 2 * max(BATCH_SIZES))
    rows = [bench_backend(b, args.model_dir, args.threads, crops, boxes, args.repeats) for b in args.backends]
    report = {"machine": machine_info(), "threads": args.threads, "repeats": args.repeats, "results": rows}

    def table() -> str:
        headers = ["backend", "load s", *(f"ms/face b={b}" for b in BATCH_SIZES)]
        keys = ["backend", "load_s", *(f"ms_per_face_batch{b}" for b in BATCH_SIZES)]
        cells = [[row[key] for key in keys] for row in rows]
        return (
            f"{describe_machine(report['machine'])}\n"
            f"age/gender backends: {args.threads} model thread(s), median of {args.repeats}\n"
            + format_table(headers, cells)
        )

    emit(args, report, table)


if __name__ == "__main__":
    main()
