"""``face_visits --rebuild``: recompute the visits table from the event database.

The sink keeps the table current as events arrive; a rebuild is for a changed ``--visit-gap-s`` or
events written by code that predates the table, and gives the same rows the sink would have.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from face_sink.mysql_store import (
    DatabaseUrlError,
    add_database_option,
    add_visit_gap_option,
    describe_database,
    open_existing_store,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_visits", description=__doc__.splitlines()[0])
    add_database_option(parser)
    parser.add_argument(
        "--rebuild", action="store_true", required=True, help="recompute every visit from the events"
    )
    add_visit_gap_option(parser, "as the sink's visit_gap_s")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        store = open_existing_store(args.database, visit_gap_s=args.visit_gap_s)
    except (DatabaseUrlError, ValueError) as err:
        print(f"face_visits: {err}", file=sys.stderr)
        return 2
    try:
        visits = store.rebuild_visits()
    finally:
        store.close()
    print(f"{visits} visits (gap {args.visit_gap_s:g} s) rebuilt in {describe_database(args.database)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
