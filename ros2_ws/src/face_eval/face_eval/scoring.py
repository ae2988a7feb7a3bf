"""``face_metrics``: scores ``face_predict`` JSON lines against the labels, per source data set.

Rows are joined on ``path`` (``path_a``/``path_b`` for pairs). Labelled rows without a
prediction, and predictions without a label, are reported and left out, never guessed.
``face_metrics scenario`` scores a store day's event store instead (``face_eval.scenario_scoring``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from face_common.faces import Box

from face_eval.metrics import (
    LabelledImage,
    accuracy,
    detection_scores,
    ids_per_person,
    mean_age_error,
    pairwise_scores,
    roc_auc,
)
from face_eval.records import (
    NO_SOURCE,
    index_by,
    number_or_nan,
    read_csv_rows,
    read_json_lines,
    source_of,
    write_json_line,
)
from face_eval.scenario_scoring import add_scenario_arguments, scenario_tables

log = logging.getLogger("face_metrics")

ALL = "all"
WIDER_SETTINGS = ("easy", "medium", "hard")

Row = dict[str, Any]
Prediction = dict[str, Any]
Label = dict[str, str]


def joined(
    predictions: Sequence[Prediction], labels: Sequence[Label], keys: tuple[str, ...]
) -> list[tuple[Prediction, Label]]:
    """(prediction, label) for every key present in both, in label order; the rest is logged."""
    by_key = index_by(predictions, *keys)
    label_keys = set()
    pairs = []
    for label in labels:
        key = tuple(label[k] for k in keys)
        label_keys.add(key)
        if key in by_key:
            pairs.append((by_key[key], label))
    if len(pairs) < len(labels):
        log.warning("%d labelled rows have no prediction: left out", len(labels) - len(pairs))
    unlabelled = len(set(by_key) - label_keys)
    if unlabelled:
        log.warning("%d predictions have no label: left out", unlabelled)
    return pairs


def by_group(
    items: Sequence[tuple[Prediction, Label]], group_of: Callable[[Prediction, Label], str]
) -> list[tuple[str, list[tuple[Prediction, Label]]]]:
    """Items per group (sorted by name), then all of them as ``all`` (alone when no label names
    a source)."""
    groups: dict[str, list[tuple[Prediction, Label]]] = defaultdict(list)
    for item in items:
        groups[group_of(*item)].append(item)
    if set(groups) == {NO_SOURCE}:
        groups.clear()
    return [*sorted(groups.items()), (ALL, list(items))]


def _source_group(_prediction: Prediction, label: Label) -> str:
    return source_of(label)


def _ignored(label: Label, wider_setting: str | None) -> bool:
    """A box is ignored when flagged invalid, or (WIDER FACE) not listed in the chosen setting."""
    if label.get("ignore") == "1":
        return True
    in_setting = label.get(f"wider_in_{wider_setting}", "") if wider_setting else ""
    return in_setting not in ("", "1")


def score_detection(
    predictions: Sequence[Prediction],
    boxes: Sequence[Label],
    images: Sequence[Label] | None = None,
    wider_setting: str | None = "hard",
    iou_threshold: float = 0.5,
) -> list[Row]:
    """Precision/recall/AP per source. ``images`` (images.csv) also lists images without faces."""
    per_image: dict[str, dict[str, Any]] = {}
    for row in images or ():
        per_image[row["path"]] = {"source": source_of(row), "truth": [], "ignored": []}
    for row in boxes:
        entry = per_image.setdefault(row["path"], {"source": source_of(row), "truth": [], "ignored": []})
        box = Box(*(round(float(row[c])) for c in ("x", "y", "w", "h")))
        entry["ignored" if _ignored(row, wider_setting) else "truth"].append(box)
    labels = [{"path": path} | entry for path, entry in per_image.items()]
    rows = []
    for group, items in by_group(joined(predictions, labels, ("path",)), _source_group):
        scores = detection_scores(
            [
                LabelledImage(
                    predicted=[(Box(*(int(v) for v in b[:4])), float(b[4])) for b in prediction["boxes"]],
                    truth=label["truth"],
                    ignored=label["ignored"],
                )
                for prediction, label in items
            ],
            iou_threshold,
        )
        rows.append(
            {
                "source": group,
                "images": scores.images,
                "faces": scores.faces,
                "ignored": sum(len(label["ignored"]) for _, label in items),
                "detections": scores.detections,
                "precision": scores.precision,
                "recall": scores.recall,
                "AP": scores.average_precision,
            }
        )
    return rows


def _face_id(prediction: Prediction) -> int | None:
    face_id = prediction.get("face_id")
    return None if face_id is None or face_id < 0 else int(face_id)


def _no_face(items: Sequence[tuple[Prediction, Label]], *flags: str) -> int:
    return sum(1 for prediction, _ in items for flag in flags if not prediction.get(flag))


def score_identity(predictions: Sequence[Prediction], labels: Sequence[Label]) -> list[Row]:
    """Pairwise precision/recall/F1 of the face IDs against the persons, and IDs per person."""
    rows = []
    for group, items in by_group(joined(predictions, labels, ("path",)), _source_group):
        persons = [label["person"] for _, label in items]
        face_ids = [_face_id(prediction) for prediction, _ in items]
        pairwise = pairwise_scores(persons, face_ids)
        ids = ids_per_person(persons, face_ids)
        rows.append(
            {
                "source": group,
                "images": len(items),
                "no_face": _no_face(items, "detected"),
                "persons": len(ids),
                "face_ids": len({i for i in face_ids if i is not None}),
                "pair_precision": pairwise.precision,
                "pair_recall": pairwise.recall,
                "pair_F1": pairwise.f1,
                "ids_per_person": sum(ids.values()) / len(ids) if ids else math.nan,
                "max_ids_per_person": max(ids.values(), default=0),
            }
        )
    return rows


def score_verification(predictions: Sequence[Prediction], labels: Sequence[Label]) -> list[Row]:
    """Accuracy of the same/different decision and ROC AUC of the distance.

    A pair with a missing descriptor counts as "different" at infinite distance.
    """
    rows = []
    for group, items in by_group(joined(predictions, labels, ("path_a", "path_b")), _source_group):
        same = [label["same"] == "1" for _, label in items]
        distances = [number_or_nan(prediction["distance"]) for prediction, _ in items]
        closeness = [-math.inf if math.isnan(d) else -d for d in distances]
        rows.append(
            {
                "source": group,
                "pairs": len(items),
                "same_pairs": sum(same),
                "no_face": _no_face(items, "detected_a", "detected_b"),
                "accuracy": accuracy([bool(p["same"]) for p, _ in items], same),
                "ROC_AUC": roc_auc(closeness, same),
            }
        )
    return rows


def _age_range(label: Label) -> tuple[float, float]:
    """``[age_min, age_max]`` (open when ``age_max`` is empty), or the exact ``age``."""
    if label.get("age_min"):
        return float(label["age_min"]), float(label["age_max"]) if label.get("age_max") else math.inf
    return float(label["age"]), float(label["age"])


def score_agegender(predictions: Sequence[Prediction], labels: Sequence[Label]) -> list[Row]:
    """Age error (0 inside a labelled bracket) and gender accuracy, per backend and source."""
    rows = []
    for backend in sorted({p["backend"] for p in predictions}):
        mine = [p for p in predictions if p["backend"] == backend]
        for group, items in by_group(joined(mine, labels, ("path",)), _source_group):
            estimated = [(p, label) for p, label in items if p.get("age") is not None]
            with_age = [(p, label) for p, label in estimated if label.get("age") or label.get("age_min")]
            with_gender = [(p, label) for p, label in estimated if label.get("gender")]
            rows.append(
                {
                    "backend": backend,
                    "source": group,
                    "images": len(items),
                    "no_face": _no_face(items, "detected"),
                    "no_estimate": len(items) - len(estimated),
                    "age_MAE": mean_age_error(
                        [float(p["age"]) for p, _ in with_age], [_age_range(label) for _, label in with_age]
                    ),
                    "gender_accuracy": accuracy(
                        [p["gender"] for p, _ in with_gender], [label["gender"] for _, label in with_gender]
                    ),
                }
            )
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """Rows as a fixed-width text table; floats with 3 decimals, NaN as ``-``."""
    if not rows:
        return "(no rows)"

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "-" if math.isnan(value) else f"{value:.3f}"
        return str(value)

    columns = list(rows[0])
    cells = [columns, *([cell(row[c]) for c in columns] for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [
        "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in cells
    ]
    return "\n".join(lines)


REQUIRED_LABELS = {
    "detection": ("path", "x", "y", "w", "h"),
    "identity": ("path", "person"),
    "verification": ("path_a", "path_b", "same"),
    "agegender": ("path",),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_metrics", description=__doc__.splitlines()[0])
    labelled = argparse.ArgumentParser(add_help=False)
    labelled.add_argument("--pred", type=Path, required=True, help="face_predict JSON lines")
    labelled.add_argument(
        "--labels",
        type=Path,
        required=True,
        help="detection: boxes.csv; identity/agegender: labels.csv; verification: pairs.csv",
    )
    labelled.add_argument(
        "--images", type=Path, help="detection: images.csv (also lists images without faces)"
    )
    labelled.add_argument(
        "--wider-setting",
        choices=(*WIDER_SETTINGS, "none"),
        default="hard",
        help="detection: WIDER FACE boxes outside this setting are ignored (none: only the ignore flag)",
    )
    labelled.add_argument("--iou", type=float, default=0.5, help="detection: IoU of a hit")
    labelled.add_argument("--json", action="store_true", help="print JSON instead of the table")
    tasks = parser.add_subparsers(dest="task", required=True)
    for task in REQUIRED_LABELS:
        tasks.add_parser(task, parents=[labelled], help=f"score face_predict {task} lines")
    add_scenario_arguments(
        tasks.add_parser("scenario", help="score a face_scenario day's event store against its ground truth")
    )
    return parser


def score_labelled(args: argparse.Namespace) -> list[Row]:
    """The rows of a ``face_predict`` task: its JSON lines against its labels."""
    predictions = read_json_lines(args.pred)
    labels = read_csv_rows(args.labels, REQUIRED_LABELS[args.task])
    if args.task == "detection":
        images = read_csv_rows(args.images, ("path",)) if args.images else None
        setting = None if args.wider_setting == "none" else args.wider_setting
        return score_detection(predictions, labels, images, setting, args.iou)
    scorer = {
        "identity": score_identity,
        "verification": score_verification,
        "agegender": score_agegender,
    }[args.task]
    return scorer(predictions, labels)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        tables = scenario_tables(args) if args.task == "scenario" else {"rows": score_labelled(args)}
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as err:
        print(f"face_metrics: {args.task}: {err!r}", file=sys.stderr)
        return 2
    if args.json:
        write_json_line(sys.stdout, {"task": args.task, **tables})
    elif args.task == "scenario":
        print("\n\n".join(f"{name}:\n{format_table(rows)}" for name, rows in tables.items()))
    else:
        print(format_table(tables["rows"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
