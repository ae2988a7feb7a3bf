"""``face_report``: print the store report from the event database and write its plots.

Prints the seed's Table I (``timestamp age gender face_id``), customer counts, new vs repeat
customers, the gender ratio and age buckets; from the visits table, repeat customers per UTC day
and ISO week, dwell time per camera and age/gender bucket, the most common journeys through the
cameras, transition counts and times between cameras; and a heat map per camera. Writes
``age_by_face.png`` (Fig. 10), ``gender_by_age.png`` (Fig. 11), ``dwell.png``, ``journeys.png`` and
``heat_<camera>.png``. ``--start``/``--end`` restrict every section to a period: events by their
stamp, visits by their start. The numbers come from ``face_sink.stats``,
``face_analytics.visit_stats``, ``face_analytics.journeys`` and ``face_analytics.heatmap``; this
module only reads the store and formats.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
from face_common.timestamps import utc_ns
from face_sink.mysql_store import (
    DatabaseUrlError,
    add_database_option,
    add_visit_gap_option,
    open_existing_store,
)
from face_sink.schema import EventStore, utc_text
from face_sink.stats import Summary, TableRow, summarize, table_rows

from face_analytics.heatmap import background_image, camera_heat, render
from face_analytics.journeys import (
    Journey,
    TransitionMatrix,
    TransitionRow,
    in_period,
    journey_counts,
    transition_matrix,
    transition_rows,
    transition_seconds,
)
from face_analytics.plots import plot_age_by_face, plot_dwell, plot_gender_by_age, plot_journeys
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

# Frames are not stored, so the report draws heat maps on a grey canvas of this size (face_heatmap's
# default frame size); face_heatmap takes an operator's reference photo and another frame size.
HEAT_WIDTH, HEAT_HEIGHT = 1280, 720


@dataclass(frozen=True)
class HeatMapRow:
    """One camera's heat map as written: events counted, their time-weighted seconds, the PNG."""

    camera_id: str
    events: int
    face_seconds: float
    path: Path


def period_ns(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    """``--start``/``--end`` as UTC nanoseconds (``None``: open); an empty period is an error, not an
    empty report."""
    since_ns = None if start is None else utc_ns(start)
    until_ns = None if end is None else utc_ns(end)
    if since_ns is not None and until_ns is not None and until_ns <= since_ns:
        raise ValueError(f"--end {end} is not after --start {start}")
    return since_ns, until_ns


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


def format_journeys(journeys: Sequence[tuple[Journey, int]], max_rows: int) -> list[str]:
    """Most common journeys first: store visits that took it, their share, the cameras in order;
    ``max_rows`` 0 prints every journey."""
    total = sum(count for _, count in journeys)
    lines = [f"{'visits':>6}  {'share':>6}  journey"]
    shown = journeys if max_rows <= 0 else journeys[:max_rows]
    lines += [f"{count:>6}  {100 * count / total:>5.1f}%  {' > '.join(path)}" for path, count in shown]
    if len(shown) < len(journeys):
        lines.append(f"... {len(journeys) - len(shown)} more journeys (--max-journeys 0 prints all)")
    return lines


def format_transitions(matrix: TransitionMatrix) -> list[str]:
    """The from/to count matrix: one line per camera moved from, one column per camera moved to."""
    if not matrix.cameras:
        return ["no store visits"]
    label = max(9, *map(len, matrix.cameras))
    width = max(6, *map(len, matrix.cameras))
    corner = "from \\ to"
    lines = [f"{corner:<{label}}" + "".join(f"  {c:>{width}}" for c in matrix.cameras)]
    lines += [
        f"{camera:<{label}}" + "".join(f"  {n:>{width}}" for n in row)
        for camera, row in zip(matrix.cameras, matrix.counts, strict=True)
    ]
    return lines


def format_transition_times(rows: Sequence[TransitionRow]) -> list[str]:
    """One line per camera pair: transitions, median and p90 seconds from leaving one to the next."""
    pairs = [f"{r.from_camera} -> {r.to_camera}" for r in rows]
    width = max(14, *map(len, pairs)) if pairs else 14
    lines = [f"{'from -> to':<{width}}  {'count':>6}  {'median s':>9}  {'p90 s':>9}"]
    lines += [
        f"{pair:<{width}}  {r.count:>6}  {r.median_s:>9.1f}  {r.p90_s:>9.1f}"
        for pair, r in zip(pairs, rows, strict=True)
    ]
    return lines


def format_heat_maps(rows: Sequence[HeatMapRow]) -> list[str]:
    """One line per camera: events, time-weighted face-seconds and the PNG written."""
    if not rows:
        return ["no events: no heat maps"]
    width = max(8, *(len(r.camera_id) for r in rows))
    lines = [f"{'camera':<{width}}  {'events':>6}  {'face-seconds':>12}  written"]
    lines += [f"{r.camera_id:<{width}}  {r.events:>6}  {r.face_seconds:>12.1f}  {r.path}" for r in rows]
    return lines


def heat_map_path(plots_dir: Path, camera_id: str) -> Path:
    """``heat_<camera>.png``, the camera ID kept to characters safe in a file name."""
    return plots_dir / f"heat_{re.sub(r'[^A-Za-z0-9._-]', '_', camera_id)}.png"


def write_heat_maps(
    store: EventStore,
    cameras: Sequence[str],
    plots_dir: Path,
    since_ns: int | None,
    until_ns: int | None,
) -> list[HeatMapRow]:
    """Each camera's heat map over the period (``face_heatmap``'s weighting and drawing) as a PNG."""
    background = background_image(None, HEAT_WIDTH, HEAT_HEIGHT)
    rows = []
    for camera_id in cameras:
        heat, count, seconds = camera_heat(store, camera_id, HEAT_WIDTH, HEAT_HEIGHT, since_ns, until_ns)
        path = heat_map_path(plots_dir, camera_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        _, png = cv2.imencode(".png", render(heat, background))
        path.write_bytes(png.tobytes())
        rows.append(HeatMapRow(camera_id, count, seconds, path))
    return rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_report", description=__doc__.splitlines()[0])
    add_database_option(parser)
    parser.add_argument("--camera-id", help="only this camera (default: all)")
    add_visit_gap_option(parser, "on any camera (store visits)")
    parser.add_argument(
        "--start",
        help="period start, ISO 8601 (no zone: UTC), inclusive; events by stamp, visits by start "
        "(default: no limit)",
    )
    parser.add_argument("--end", help="period end, ISO 8601 (no zone: UTC), exclusive (default: no limit)")
    parser.add_argument("--max-rows", type=int, default=100, help="Table I rows to print; 0 prints all")
    parser.add_argument(
        "--max-journeys", type=int, default=10, help="most common journeys to print; 0 prints all"
    )
    parser.add_argument("--plots-dir", type=Path, default=Path("out/report"), help="where the PNGs go")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        since_ns, until_ns = period_ns(args.start, args.end)
        store = open_existing_store(args.database)
    except (DatabaseUrlError, ValueError) as err:
        print(f"face_report: {err}", file=sys.stderr)
        return 2
    try:
        events = store.read_events(camera_id=args.camera_id, since_ns=since_ns, until_ns=until_ns)
        camera_visits = [v for v in store.read_visits() if args.camera_id in (None, v.camera_id)]
        cameras = sorted({e.camera_id for e in events})
        heat_maps = write_heat_maps(store, cameras, args.plots_dir, since_ns, until_ns)
    finally:
        store.close()
    visits = in_period(camera_visits, since_ns, until_ns)
    # trips are merged from every camera visit, then kept by their start: one begun before the
    # period stays out whole instead of becoming a shorter journey
    trips = in_period(store_visits(camera_visits, args.visit_gap_s), since_ns, until_ns)
    summary = summarize(events, args.visit_gap_s)
    print("Table I: face events")
    print("\n".join(format_table(table_rows(events), args.max_rows)))
    print()
    print("\n".join(format_summary(summary, args.visit_gap_s)))
    seconds = transition_seconds(trips)
    matrix = transition_matrix(trips)
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
        (
            "journeys (most common; cameras in order within one store visit)",
            format_journeys(journey_counts(trips), args.max_journeys),
        ),
        ("transitions between cameras (from row to column)", format_transitions(matrix)),
        (
            "transition times (s from leaving one camera to appearing on the next)",
            format_transition_times(transition_rows(seconds)),
        ),
        (
            f"heat maps (face boxes weighted by time, on a grey {HEAT_WIDTH}x{HEAT_HEIGHT} canvas)",
            format_heat_maps(heat_maps),
        ),
    ):
        print()
        print(f"{title}:")
        print("\n".join(lines))
    for written in (
        plot_age_by_face(summary.profiles, args.plots_dir / "age_by_face.png"),
        plot_gender_by_age(summary, args.plots_dir / "gender_by_age.png"),
        plot_dwell(by_camera, by_bucket, args.plots_dir / "dwell.png"),
        plot_journeys(matrix, seconds, args.plots_dir / "journeys.png"),
    ):
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
