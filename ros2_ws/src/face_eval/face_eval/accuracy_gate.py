"""``face_accuracy_gate``: the default cores on the shared labelled data; exit 1 when accuracy drops.

CI runs it after the tests (which run as on a user's clone, without the shared data). Each task
is what ``docs/evaluation.md`` documents, run through the same functions: ``face_predict`` on
the task's CSV with the default backend, then ``face_metrics``' scoring of its labelled rows.
Every scored value is compared with its floor (or ceiling) in :data:`THRESHOLDS`: today's
measurement less a small margin, or the product's target where one is stated and met. The
data's own tables (with their sizes) and a verdict table are printed.

Exit status: 0 all thresholds met, 1 a metric dropped (or could not be measured), 2 no data or a
bad run. Missing data is an error, not a pass: the gate is only run where the data should be.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agegender_node.estimators import DEFAULT_BACKEND as DEFAULT_AGEGENDER_BACKEND
from face_detect_node.detectors import DEFAULT_DETECTOR
from identity_node.descriptor import DEFAULT_DESCRIPTOR_BACKEND

from face_eval import predict, scoring
from face_eval.data_paths import SHARED_DATA_ENV, shared_data

MetricKey = tuple[str, str, str]
"""(task, source, metric): a ``face_metrics`` row's column, the row picked by its ``source``."""


@dataclass(frozen=True)
class GateTask:
    """One ``face_predict``/``face_metrics`` task; paths relative to the data root."""

    name: str
    backend: str
    csv: str
    labels: str
    images: str | None = None


TASKS = (
    GateTask(
        "detection", DEFAULT_DETECTOR, "detection/images.csv", "detection/boxes.csv", "detection/images.csv"
    ),
    GateTask("identity", DEFAULT_DESCRIPTOR_BACKEND, "identity/labels.csv", "identity/labels.csv"),
    GateTask("verification", DEFAULT_DESCRIPTOR_BACKEND, "verification/pairs.csv", "verification/pairs.csv"),
    GateTask("agegender", DEFAULT_AGEGENDER_BACKEND, "age_gender/labels.csv", "age_gender/labels.csv"),
)


@dataclass(frozen=True)
class Threshold:
    """A bound on one metric: ``value >= bound`` (``at_least``) or ``value <= bound``."""

    task: str
    source: str
    metric: str
    bound: float
    at_least: bool = True

    @property
    def key(self) -> MetricKey:
        return self.task, self.source, self.metric

    def met_by(self, value: float) -> bool:
        """NaN (nothing to score) never meets a bound: an empty set must not pass for a result."""
        if math.isnan(value):
            return False
        return value >= self.bound if self.at_least else value <= self.bound

    def describe(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.bound:.3f}"


#: Measured on 2026-11-29 (docs/evaluation.md, "CI accuracy gate"). Detection: P = R = 1.000 on
#: dlib/VOC (18 faces), bounded by the product's target 0.98 (one face less fails); WIDER hard AP
#: 0.697 (20 faces), bound 0.65 (about one face less; the product's target is 0.6). Identity F1
#: 1.000 (60 images) and verification 1.000 / 1.000 (41 pairs): one pair wrong passes, two fail.
#: Age/gender: UTKFace MAE 7.59 / gender 0.875 (504 faces), FairFace 8.37 / 0.789 (180): 0.3
#: years and 0.02 (10 UTKFace, 3 FairFace faces) of margin.
THRESHOLDS = (
    Threshold("detection", "dlib_pascal_voc", "precision", 0.98),
    Threshold("detection", "dlib_pascal_voc", "recall", 0.98),
    Threshold("detection", "wider_face_val", "AP", 0.65),
    Threshold("identity", scoring.ALL, "pair_F1", 0.95),
    Threshold("verification", scoring.ALL, "accuracy", 0.95),
    Threshold("verification", scoring.ALL, "ROC_AUC", 0.98),
    Threshold("agegender", "utkface", "age_MAE", 7.9, at_least=False),
    Threshold("agegender", "utkface", "gender_accuracy", 0.855),
    Threshold("agegender", "fairface", "age_MAE", 8.7, at_least=False),
    Threshold("agegender", "fairface", "gender_accuracy", 0.77),
)


@dataclass(frozen=True)
class Verdict:
    threshold: Threshold
    value: float

    @property
    def passed(self) -> bool:
        return self.threshold.met_by(self.value)


def metric_values(task: str, rows: Iterable[Mapping[str, Any]]) -> dict[MetricKey, float]:
    """Every numeric column of ``face_metrics`` rows, keyed by (task, source, column)."""
    return {
        (task, row["source"], column): float(value)
        for row in rows
        for column, value in row.items()
        if isinstance(value, int | float)
    }


def judge(measured: Mapping[MetricKey, float], thresholds: Sequence[Threshold]) -> list[Verdict]:
    """Each threshold against its measured value; a metric not measured is NaN, hence a failure."""
    return [Verdict(t, measured.get(t.key, math.nan)) for t in thresholds]


def verdict_table(verdicts: Sequence[Verdict]) -> str:
    return scoring.format_table(
        [
            {
                "task": v.threshold.task,
                "source": v.threshold.source,
                "metric": v.threshold.metric,
                "value": v.value,
                "threshold": v.threshold.describe(),
                "result": "pass" if v.passed else "FAIL",
            }
            for v in verdicts
        ]
    )


def evaluate(task: GateTask, root: Path, scratch: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """``face_predict`` then ``face_metrics`` for one task: the scored rows."""
    pred = scratch / f"{task.name}.jsonl"
    options = ["--backend", task.backend, "--model-dir", str(args.model_dir), "--threads", str(args.threads)]
    if predict.main([task.name, "--csv", str(root / task.csv), "--out", str(pred), *options]) != 0:
        raise RuntimeError(f"face_predict {task.name} failed")
    metrics_args = [task.name, "--pred", str(pred), "--labels", str(root / task.labels)]
    if task.images:
        metrics_args += ["--images", str(root / task.images)]
    return scoring.score_labelled(scoring.build_parser().parse_args(metrics_args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_accuracy_gate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        help=f"labelled data root (default: ${SHARED_DATA_ENV}, else ../shared/data beside this folder)",
    )
    parser.add_argument("--model-dir", type=Path, default=Path("models"), help="model files")
    parser.add_argument("--threads", type=int, default=1, help="model threads")
    return parser


def data_to_evaluate(given: Path | None) -> Path:
    """``given``, else the shared data; ``FileNotFoundError`` saying why there is none."""
    root = given or shared_data(Path.cwd())
    if root is None:
        raise FileNotFoundError(f"no ../shared/data beside {Path.cwd()}, or {SHARED_DATA_ENV} hides it")
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        root = data_to_evaluate(args.data)
    except FileNotFoundError as err:
        print(f"face_accuracy_gate: no labelled data to evaluate: {err}", file=sys.stderr)
        return 2
    print(f"face_accuracy_gate: {root}")
    measured: dict[MetricKey, float] = {}
    with tempfile.TemporaryDirectory(prefix="face_accuracy_gate_") as scratch:
        for task in TASKS:
            started = time.monotonic()
            try:
                rows = evaluate(task, root, Path(scratch), args)
            except (OSError, ValueError, KeyError, RuntimeError) as err:
                print(f"face_accuracy_gate: {task.name}: {err}", file=sys.stderr)
                return 2
            print(f"{task.name} ({task.backend}, {time.monotonic() - started:.0f} s):")
            print(scoring.format_table(rows) + "\n")
            measured |= metric_values(task.name, rows)
    verdicts = judge(measured, THRESHOLDS)
    print(verdict_table(verdicts))
    failed = sum(not v.passed for v in verdicts)
    print(f"face_accuracy_gate: {len(verdicts) - failed} of {len(verdicts)} thresholds met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
