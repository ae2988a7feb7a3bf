"""Milliseconds per face of each age/gender backend, one face per call and batches of 8.

Real face crops (each labelled age/gender image's largest dlib HOG face, cut as evaluation cuts
photos: 40% zero-padded margin, as the graph cuts them) go through ``AgeGenderEstimator.estimate``,
preprocessing included, of each backend built from ``AttributionSettings`` as the age/gender stage
builds it. Prints a table (median over repeats) or, with ``--json``, one JSON object.

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
    """``count`` real crops and their face boxes: each image's largest face, as evaluation cuts it."""
    import cv2
    from face_eval.photo_faces import PhotoFaceFinder
    from face_eval.predict import AGEGENDER_UPSAMPLE

    finder = PhotoFaceFinder("hog", upsample=AGEGENDER_UPSAMPLE)
    crops, boxes = [], []
    for path in sorted((data_dir / "fairface").glob("*.jpg")):
        found = finder.largest_face(cv2.imread(str(path)), whole_image_fallback=False)
        if found is not None:
            crops.append(found.face.crop)
            boxes.append(found.face.box_in_crop())
        if len(crops) == count:
            return crops, boxes
    raise SystemExit(f"only {len(crops)} faces found in {data_dir}, need {count}")


def bench_backend(name: str, model_dir: Path, threads: int, crops, boxes, repeats: int) -> dict:
    from agegender_node.attribution import AttributionSettings

    started = time.perf_counter()
    estimator = AttributionSettings(
        backend=name, model_dir=str(model_dir), num_threads=threads
    ).make_estimator()
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
