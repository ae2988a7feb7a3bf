"""``face_report``: print the store report from the event database and write its plots.

Prints the seed's Table I (``timestamp age gender face_id``), customer counts, new vs repeat
customers, the gender ratio and age buckets; writes ``age_by_face.png`` (Fig. 10) and
``gender_by_age.png`` (Fig. 11). The numbers come from ``face_analytics.stats``; this module only
reads the store and formats.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from face_sink.mysql_store import DatabaseUrlError, open_store, sqlite_path
from face_sink.schema import DEFAULT_SQLITE_PATH, utc_text
from face_sink.visits import DEFAULT_VISIT_GAP_S

from face_analytics.plots import plot_age_by_face, plot_gender_by_age
from face_analytics.stats import Summary, TableRow, summarize, table_rows


def format_table(rows: Sequence[TableRow], max_rows: int) -> list[str]:
    """Table I lines; ``max_rows`` 0 prints every row."""
    lines = [f"{'timestamp (UTC)':<26}  {'age':>5}  {'gender':<7}  {'face_id':>7}"]
    shown = rows if max_rows <= 0 else rows[:max_rows]
    for row in shown:
        age = "-" if math.isnan(row.age) else f"{row.age:.1f}"
        lines.append(f"{utc_text(row.stamp_ns):<26}  {age:>5}  {row.gender or '-':<7}  {row.face_id:>7}")
    if len(shown) < len(rows):
        lines.append(f"... {len(rows) - len(shown)} more rows (--max-rows 0 prints all)")
    return lines


def format_summary(summary: Summary, visit_gap_s: float) -> list[str]:
    share = summary.female_share
    ratio = "n/a" if share is None else f"{100 * share:.1f}% female / {100 * (1 - share):.1f}% male"
    genders = ", ".join(f"{g} {n}" for g, n in summary.genders.items())
    buckets = ", ".join(f"{b}: {n}" for b, n in summary.age_buckets.items())
    lines = [
        f"events: {summary.events} ({summary.unidentified_events} without face ID)",
        f"customers (distinct face IDs): {summary.customers}",
        f"new customers: {summary.new_customers}, repeat customers: {summary.repeat_customers} "
        f"(a new visit after a gap > {visit_gap_s:g} s)",
        f"gender (majority per face ID): {genders}; ratio of known: {ratio}",
        f"age buckets (median per face ID): {buckets}",
        "per face ID (appearances, visits, median age, gender):",
    ]
    lines += [
        f"  {p.face_id:>7}: {p.appearances:>5} x, {p.visits} visit(s), "
        f"{'-' if math.isnan(p.median_age) else f'{p.median_age:.1f}'}, {p.gender}"
        for p in summary.profiles
    ]
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_report", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        default=str(DEFAULT_SQLITE_PATH),
        help="event store: SQLite file, sqlite:///path or mysql://user@host:port/db "
        "(password in $FACE_DB_PASSWORD)",
    )
    parser.add_argument("--camera-id", help="only this camera (default: all)")
    parser.add_argument(
        "--visit-gap-s",
        type=float,
        default=DEFAULT_VISIT_GAP_S,
        help="appearances further apart than this start a new visit (default %(default)s)",
    )
    parser.add_argument("--max-rows", type=int, default=100, help="Table I rows to print; 0 prints all")
    parser.add_argument("--plots-dir", type=Path, default=Path("out/report"), help="where the PNGs go")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        path = sqlite_path(args.database)
        if path is not None and not path.is_file():  # a report must not create an empty store
            print(f"face_report: no event database at {path}", file=sys.stderr)
            return 2
        store = open_store(args.database)
    except DatabaseUrlError as err:
        print(f"face_report: {err}", file=sys.stderr)
        return 2
    try:
        events = store.read_events(camera_id=args.camera_id)
    finally:
        store.close()
    summary = summarize(events, args.visit_gap_s)
    print("Table I: face events")
    print("\n".join(format_table(table_rows(events), args.max_rows)))
    print()
    print("\n".join(format_summary(summary, args.visit_gap_s)))
    for written in (
        plot_age_by_face(summary.profiles, args.plots_dir / "age_by_face.png"),
        plot_gender_by_age(summary, args.plots_dir / "gender_by_age.png"),
    ):
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
