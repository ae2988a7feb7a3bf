"""``face_predict``: the project's own cores on a labelled set, one JSON line per input.

Only the ``path`` columns (``path_a``/``path_b`` for pairs) are read: label columns may be absent
and nothing written depends on them, so ``face_metrics`` scores exactly what the product would
do. Tasks:

- ``detection``: every face the detector finds, ``boxes`` = ``[x, y, w, h, score]``.
- ``identity``: the images, in CSV order, through a fresh temporary gallery: ``face_id``.
- ``verification``: per pair, the descriptor ``distance`` and ``same`` (distance under the
  gallery's match threshold: the decision the gallery itself makes).
- ``agegender``: ``age``, ``gender``, ``p_female`` per image and per backend.

Identity, verification and age/gender use each photo's largest face (see :mod:`photo_faces`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from agegender_node.attribution import AttributionSettings
from agegender_node.estimators import BACKENDS
from face_common.faces import FrameFaces, FrameRef
from face_detect_node.detectors import DEFAULT_DETECTOR, DEFAULT_MIN_FACE_SIZE, DETECTORS, make_detector
from identity_node.descriptor import DEFAULT_DESCRIPTOR_BACKEND, DESCRIPTOR_BACKENDS, FaceDescriptor
from identity_node.gallery import DEFAULT_MATCH_THRESHOLD
from identity_node.identification import FaceIdentifier, IdentitySettings
from tqdm import tqdm

from face_eval.photo_faces import DEFAULT_MAX_SIDE, PhotoFace, PhotoFaceFinder
from face_eval.records import read_csv_rows, write_json_line

log = logging.getLogger("face_predict")

#: The age/gender backends run when none is named: the fast ones (the Keras reference gives the
#: same numbers as ``wideresnet_onnx`` at several times the cost).
DEFAULT_AGEGENDER_BACKENDS = ("wideresnet_onnx", "dlib_onnx", "faceapi_onnx")
#: Age/gender sets are face chips and 1.25-margin crops, where the face fills the image: HOG
#: without upsampling misses fewer of them (39 of 684 shared images vs 59 with one doubling).
AGEGENDER_UPSAMPLE = 0
#: Detectors that take ``upsample`` (dlib's).
UPSAMPLING_DETECTORS = ("hog", "cnn")

Record = dict[str, Any]


def read_image(path: Path) -> np.ndarray | None:
    """BGR image, or None (logged) when the file is missing or not an image."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        log.warning("%s: cannot read image", path)
        return None
    return image


def _backend_options(args: argparse.Namespace, detector: str) -> dict[str, int | float]:
    """The options given for ``detector``; one it does not take makes it raise ``TypeError``."""
    upsample = args.upsample
    if upsample is None and args.task == "agegender" and detector in UPSAMPLING_DETECTORS:
        upsample = AGEGENDER_UPSAMPLE
    given = {"upsample": upsample, "score_threshold": args.score_threshold, "input_size": args.input_size}
    options = {key: value for key, value in given.items() if value is not None}
    if detector == "retinaface":
        options["num_threads"] = args.threads
    return options


def _finder(args: argparse.Namespace) -> PhotoFaceFinder:
    return PhotoFaceFinder(
        args.detector,
        max_side=args.max_side,
        min_face_size=args.min_face_size,
        **_backend_options(args, args.detector),
    )


def _identity_settings(args: argparse.Namespace) -> IdentitySettings:
    """The identity stage's settings with the descriptor and threshold under evaluation."""
    return IdentitySettings(
        descriptor_backend=args.backend or DEFAULT_DESCRIPTOR_BACKEND,
        match_threshold=args.match_threshold,
        model_dir=str(args.model_dir),
    )


def predict_detection(
    rows: Sequence[dict[str, str]], root: Path, args: argparse.Namespace
) -> Iterator[Record]:
    name = args.backend or DEFAULT_DETECTOR
    detector = make_detector(
        name,
        min_face_size=args.min_face_size,
        detect_scale=args.detect_scale,
        **_backend_options(args, name),
    )
    for row in rows:
        image = read_image(root / row["path"])
        if image is None:
            yield {"path": row["path"], "boxes": [], "error": "unreadable image"}
            continue
        found = detector.detect(image)
        yield {"path": row["path"], "boxes": [[*box.as_list(), score] for box, score in found]}


def _photo_face_record(found: PhotoFace | None) -> Record:
    if found is None:
        return {"detected": False, "box": None, "error": "unreadable image"}
    return {"detected": found.detected, "box": found.face.box.as_list()}


def predict_identity(
    rows: Sequence[dict[str, str]], root: Path, args: argparse.Namespace
) -> Iterator[Record]:
    finder = _finder(args)
    with tempfile.TemporaryDirectory(prefix="face_predict_") as scratch:
        identifier = FaceIdentifier.from_settings(_identity_settings(args), Path(scratch) / "gallery.sqlite")
        with identifier.gallery:
            for row in rows:
                image = read_image(root / row["path"])
                found = None if image is None else finder.largest_face(image)
                record = {"path": row["path"], "face_id": None, "distance": None, "new_face": None}
                if found is not None:
                    for problem in identifier.identify(FrameFaces(FrameRef("photo", 0), [found.face])):
                        log.warning("%s: %s", row["path"], problem)
                    if found.face.face_id >= 0:
                        record.update(
                            face_id=found.face.face_id,
                            distance=found.face.distance,
                            new_face=found.face.new_face,
                        )
                yield record | _photo_face_record(found)


class _DescriptorCache:
    """Descriptor of each photo's largest face, computed once however many pairs use it."""

    def __init__(self, finder: PhotoFaceFinder, descriptor: FaceDescriptor, root: Path) -> None:
        self._finder, self._descriptor, self._root = finder, descriptor, root
        self._cache: dict[str, tuple[np.ndarray | None, PhotoFace | None]] = {}

    def get(self, path: str) -> tuple[np.ndarray | None, PhotoFace | None]:
        if path not in self._cache:
            image = read_image(self._root / path)
            found = None if image is None else self._finder.largest_face(image)
            vector = None
            if found is not None:
                try:
                    vector = self._descriptor.describe(found.face.crop, found.face.box_in_crop())
                except ValueError as err:
                    log.warning("%s: %s", path, err)
            self._cache[path] = (vector, found)
        return self._cache[path]


def predict_verification(
    rows: Sequence[dict[str, str]], root: Path, args: argparse.Namespace
) -> Iterator[Record]:
    cache = _DescriptorCache(_finder(args), _identity_settings(args).make_descriptor(), root)
    for row in rows:
        (vector_a, found_a), (vector_b, found_b) = cache.get(row["path_a"]), cache.get(row["path_b"])
        record: Record = {"path_a": row["path_a"], "path_b": row["path_b"], "distance": None, "same": None}
        if vector_a is not None and vector_b is not None:
            distance = float(np.linalg.norm(vector_a.astype(np.float64) - vector_b.astype(np.float64)))
            record.update(distance=distance, same=distance < args.match_threshold)
        yield record | {
            "detected_a": found_a is not None and found_a.detected,
            "detected_b": found_b is not None and found_b.detected,
        }


def predict_agegender(
    rows: Sequence[dict[str, str]], root: Path, args: argparse.Namespace
) -> Iterator[Record]:
    backends = args.backend.split(",") if args.backend else list(DEFAULT_AGEGENDER_BACKENDS)
    estimators = {
        b: AttributionSettings(
            backend=b, model_dir=str(args.model_dir), num_threads=args.threads
        ).make_estimator()
        for b in backends
    }
    finder = _finder(args)
    for row in rows:
        image = read_image(root / row["path"])
        found = None if image is None else finder.largest_face(image)
        for backend, estimator in estimators.items():
            record: Record = {"path": row["path"], "backend": backend, "age": None, "gender": None}
            if found is not None:
                (estimate,) = estimator.estimate([found.face.crop], [found.face.box_in_crop()])
                record.update(age=estimate.age, gender=estimate.gender, p_female=estimate.p_female)
            yield record | _photo_face_record(found)


TASKS: dict[str, tuple[tuple[str, ...], Callable[..., Iterator[Record]]]] = {
    "detection": (("path",), predict_detection),
    "identity": (("path",), predict_identity),
    "verification": (("path_a", "path_b"), predict_verification),
    "agegender": (("path",), predict_agegender),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_predict", description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=list(TASKS))
    parser.add_argument(
        "--csv", type=Path, required=True, help="labelled set (only the path columns are read)"
    )
    parser.add_argument(
        "--root", type=Path, help="folder the CSV's paths are relative to (default: the CSV's)"
    )
    parser.add_argument("--out", type=Path, required=True, help="JSON lines file to write")
    parser.add_argument(
        "--backend",
        help=f"detection: detector {sorted(DETECTORS)} ({DEFAULT_DETECTOR}); identity/verification: "
        f"descriptor {sorted(DESCRIPTOR_BACKENDS)}; agegender: comma-separated {sorted(BACKENDS)} "
        f"(default {','.join(DEFAULT_AGEGENDER_BACKENDS)})",
    )
    parser.add_argument(
        "--detector",
        choices=sorted(DETECTORS),
        default="hog",
        help="face finder of identity/agegender photos",
    )
    parser.add_argument(
        "--upsample",
        type=int,
        help=f"dlib detectors: image doublings (default: the backend's; {AGEGENDER_UPSAMPLE} for agegender)",
    )
    parser.add_argument(
        "--score-threshold", type=float, help="retinaface: least face probability (default: the backend's)"
    )
    parser.add_argument(
        "--input-size", type=int, help="retinaface: longest side the network sees (default: the backend's)"
    )
    parser.add_argument("--min-face-size", type=int, default=DEFAULT_MIN_FACE_SIZE)
    parser.add_argument(
        "--detect-scale", type=float, default=1.0, help="detection: downscale before detecting"
    )
    parser.add_argument(
        "--max-side", type=int, default=DEFAULT_MAX_SIDE, help="photos: detect at this longest side"
    )
    parser.add_argument("--match-threshold", type=float, default=DEFAULT_MATCH_THRESHOLD)
    parser.add_argument(
        "--model-dir", type=Path, default=Path("models"), help="model files (age/gender, descriptor)"
    )
    parser.add_argument("--threads", type=int, default=1, help="model threads (age/gender, retinaface)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    required, predict = TASKS[args.task]
    try:
        rows = read_csv_rows(args.csv, required)
    except (OSError, ValueError) as err:
        print(f"face_predict: {err}", file=sys.stderr)
        return 2
    root = args.root or args.csv.parent
    args.out.parent.mkdir(parents=True, exist_ok=True)
    written = unreadable = 0
    with args.out.open("w") as out:
        try:
            for record in predict(tqdm(rows, unit="row", disable=args.no_progress), root, args):
                write_json_line(out, record)
                written += 1
                unreadable += "error" in record
        except (OSError, ValueError, TypeError) as err:  # bad backend name/option, missing model files
            print(f"face_predict: {err}", file=sys.stderr)
            return 2
    print(f"{args.task}: {written} predictions ({unreadable} unreadable images) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
