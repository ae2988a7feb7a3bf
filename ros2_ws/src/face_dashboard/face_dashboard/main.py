"""``face_dashboard``: serve the store dashboard, its JSON API and the signage pages.

Settings come from ``--config`` (YAML, ``config/dashboard.example.yaml``) and ``FACE_DASHBOARD_*``
variables; ``--host``/``--port``/``--database`` override them. Tokens never come from the command
line (``ps`` shows it). Exits 2 with one line when the configuration or the offer rules are wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from signage_node.offers import OffersError

from face_dashboard.app import create_app
from face_dashboard.settings import SettingsError, load_settings

GRACEFUL_SHUTDOWN_S = 2  # open live streams never end by themselves: do not wait for them longer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="YAML settings (see config/dashboard.example.yaml)")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (default 8080)")
    parser.add_argument(
        "--database", help="event store: SQLite file, sqlite:///path or mysql://user@host:port/db"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config, host=args.host, port=args.port, database=args.database)
        app = create_app(settings)
    except (SettingsError, OffersError) as err:
        print(f"face_dashboard: {err}", file=sys.stderr)
        return 2
    print(f"face_dashboard: http://{settings.host}:{settings.port}/ (API docs at /docs)", flush=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
