"""``face_report``: print the store report from the event database and write its plots.

Prints the seed's Table I (``timestamp age gender face_id``), customer counts, new vs repeat
customers, the gender ratio and age buckets; from the visits table, repeat customers per UTC day
and ISO week and dwell time per camera and age/gender bucket. Writes ``age_by_face.png`` (Fig. 10),
``gender_by_age.png`` (Fig. 11) and ``dwell.png``. The numbers come from ``face_analytics.stats``
and ``face_analytics.visit_stats``; this module only reads the store and formats.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from face_sink.mysql_store import DatabaseUrlError, add_database_option, open_existing_store
from face_sink.schema import utc_text
from face_sink.visits import DEFAULT_VISIT_GAP_S

from face_analytics.plots import plot_age_by_face, plot_dwell, plot_gender_by_age
from face_analytics.stats import Summary, TableRow, summarize, table_rows
from face_analytics.visit_stats import (
    DwellRow,
    RepeatRow,
    dwell_by,
    dwell_rows,
    iso_week,
    repeat_customers,
    store_visits,
    utc_day,
    visit_bucket,
)


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


def format_repeat(rows: Sequence[RepeatRow], period: str) -> list[str]:
    """One line per period: customers, new vs returning, visits per customer, days since last visit."""
    lines = [
        f"{period:<10}  {'customers':>9}  {'new':>5}  {'returning':>9}  "
        f"{'visits/cust':>11}  {'days since last':>15}"
    ]
    for row in rows:
        days = "-" if row.median_days_since_last is None else f"{row.median_days_since_last:.1f}"
        lines.append(
            f"{row.period:<10}  {row.customers:>9}  {row.new:>5}  {row.returning:>9}  "
            f"{row.visits_per_customer:>11.2f}  {days:>15}"
        )
    return lines


def format_dwell(rows: Sequence[DwellRow], group: str) -> list[str]:
    """One line per group: visits, median and p90 dwell seconds."""
    lines = [f"{group:<14}  {'visits':>6}  {'median s':>9}  {'p90 s':>9}"]
    lines += [f"{r.group:<14}  {r.count:>6}  {r.median_s:>9.1f}  {r.p90_s:>9.1f}" for r in rows]
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_report", description=__doc__.splitlines()[0])
    add_database_option(parser)
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
        store = open_existing_store(args.database)
    except DatabaseUrlError as err:
        print(f"face_report: {err}", file=sys.stderr)
        return 2
    try:
        events = store.read_events(camera_id=args.camera_id)
        visits = [v for v in store.read_visits() if args.camera_id in (None, v.camera_id)]
    finally:
        store.close()
    summary = summarize(events, args.visit_gap_s)
    print("Table I: face events")
    print("\n".join(format_table(table_rows(events), args.max_rows)))
    print()
    print("\n".join(format_summary(summary, args.visit_gap_s)))
    trips = store_visits(visits, args.visit_gap_s)
    by_camera = dwell_by(visits, lambda v: v.camera_id)
    by_bucket = dwell_by(visits, visit_bucket)
    for title, lines in (
        (
            "repeat customers by UTC day (store visits: all cameras merged)",
            format_repeat(repeat_customers(trips, utc_day), "day"),
        ),
        ("repeat customers by ISO week", format_repeat(repeat_customers(trips, iso_week), "week")),
        ("dwell time per camera (visits table)", format_dwell(dwell_rows(by_camera), "camera")),
        ("dwell time per age/gender bucket", format_dwell(dwell_rows(by_bucket), "bucket")),
    ):
        print()
        print(f"{title}:")
        print("\n".join(lines))
    for written in (
        plot_age_by_face(summary.profiles, args.plots_dir / "age_by_face.png"),
        plot_gender_by_age(summary, args.plots_dir / "gender_by_age.png"),
        plot_dwell(by_camera, by_bucket, args.plots_dir / "dwell.png"),
    ):
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
