"""Fixtures of the dashboard tests: the store day (``store_day``) in a real SQLite event store, written
through ``EventStore.write_events`` (which keeps the visits table, as the sink does), the
dashboard's settings for it and plain SQL on it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from face_dashboard.settings import DashboardSettings
from face_sink.schema import open_sqlite_store
from store_day import ADMIN_TOKEN, OFFERS, STAFF_TOKEN, store_day_events


@pytest.fixture
def store_day(tmp_path: Path) -> Path:
    """A SQLite event store holding the store day (and the day before)."""
    database = tmp_path / "events.sqlite"
    store = open_sqlite_store(database)
    store.write_events(store_day_events())
    store.close()
    return database


@pytest.fixture
def offers_file(tmp_path: Path) -> Path:
    path = tmp_path / "offers.yaml"
    path.write_text(OFFERS)
    return path


@pytest.fixture
def settings(store_day: Path, offers_file: Path, tmp_path: Path) -> DashboardSettings:
    return DashboardSettings(
        database=str(store_day),
        staff_tokens=[STAFF_TOKEN],
        admin_tokens=[ADMIN_TOKEN],
        gallery=tmp_path / "gallery.sqlite",
        crops_dir=tmp_path / "crops",
        offers_file=str(offers_file),
        poll_s=0.2,
        min_display_s=0.0,
        clear_after_s=600.0,
    )


@pytest.fixture
def sql(store_day: Path) -> Callable[..., list[tuple]]:
    """Plain SQL on the store, for numbers checked independently of the dashboard's code."""

    def query(statement: str, *params: object) -> list[tuple]:
        with sqlite3.connect(store_day) as connection:
            return connection.execute(statement, params).fetchall()

    return query
