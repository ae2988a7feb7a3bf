"""Reading labelled CSV files and writing/reading prediction JSON lines.

Both commands go through here so a prediction file written by ``face_predict`` is read back by
``face_metrics`` the same way (NaN travels as JSON ``null``).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

#: Columns naming where a labelled row comes from, in order of preference.
SOURCE_COLUMNS = ("source", "dataset")
NO_SOURCE = "-"


def read_csv_rows(path: Path, required: Sequence[str] = ()) -> list[dict[str, str]]:
    """All rows of a CSV with a header; ``ValueError`` naming any missing required column."""
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        return list(reader)


def source_of(row: dict[str, str]) -> str:
    """The data set a labelled row comes from (``source`` or ``dataset`` column)."""
    for column in SOURCE_COLUMNS:
        if row.get(column):
            return row[column]
    return NO_SOURCE


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def write_json_line(out: IO[str], record: dict[str, Any]) -> None:
    """One JSON object on one line; non-finite floats become ``null`` (JSON has no NaN)."""
    out.write(json.dumps(_json_safe(record)) + "\n")


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def number_or_nan(value: Any) -> float:
    """A JSON number, or NaN for ``null``/empty."""
    return math.nan if value is None or value == "" else float(value)


def index_by(records: Iterable[dict[str, Any]], *keys: str) -> dict[tuple, dict[str, Any]]:
    """Records keyed by the values of ``keys``; a repeated key is an error, not a silent overwrite."""
    indexed: dict[tuple, dict[str, Any]] = {}
    for record in records:
        key = tuple(record[k] for k in keys)
        if key in indexed:
            raise ValueError(f"duplicate entry for {dict(zip(keys, key, strict=True))}")
        indexed[key] = record
    return indexed
