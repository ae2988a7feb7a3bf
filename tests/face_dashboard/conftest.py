"""Fixtures of the dashboard tests: the store day (``store_day``) in a real SQLite event store, written
through ``EventStore.write_events`` (which keeps the visits table, as the sink does), the
dashboard's settings for it and plain SQL on it."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import cv2
import pytest
import yaml
from face_dashboard.settings import DashboardSettings
from face_sink.schema import open_sqlite_store
from store_day import ADMIN_TOKEN, OFFERS, STAFF_TOKEN, offer_picture, store_day_events


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
    (tmp_path / "offers").mkdir()
    cv2.imwrite(str(tmp_path / "offers" / "skincare.png"), offer_picture())
    return path


@pytest.fixture
def settings(store_day: Path, offers_file: Path, tmp_path: Path) -> DashboardSettings:
    return DashboardSettings(
        database=str(store_day),
        staff_tokens=[STAFF_TOKEN],
        admin_tokens=[ADMIN_TOKEN],
        gallery=tmp_path / "gallery.sqlite",
        crops_dir=tmp_path / "crops",
        annotated_dir=tmp_path / "annotated",
        erase_service="",  # no ROS here: the gallery file (tests/identity_node covers the service)
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


@pytest.fixture
def serve(settings: DashboardSettings, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start the real ``face_dashboard`` command (tokens from the environment, the rest from a config
    file, ``changes`` over ``settings``) and return its URL once it answers; stopped at teardown."""
    processes: list[subprocess.Popen] = []

    def start(env: Mapping[str, str] | None = None, **changes: object) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        config = tmp_path / f"dashboard_{port}.yaml"
        values = settings.model_dump(mode="json", exclude={"staff_tokens", "admin_tokens"})
        config.write_text(yaml.safe_dump({**values, **changes, "port": port}))
        tokens = {"FACE_DASHBOARD_STAFF_TOKENS": STAFF_TOKEN, "FACE_DASHBOARD_ADMIN_TOKENS": ADMIN_TOKEN}
        command = [str(Path(sys.executable).parent / "face_dashboard"), "--config", str(config)]
        process = subprocess.Popen(
            command,
            env={**(os.environ if env is None else env), **tokens},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        request = urllib.request.Request(f"{url}/api/me", headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"face_dashboard exited: {process.stdout.read()}"
            try:
                urllib.request.urlopen(request, timeout=1).close()
                return url
            except OSError:
                assert time.monotonic() < deadline, "face_dashboard did not answer within 30 s"
                time.sleep(0.2)

    yield start
    for process in processes:
        process.terminate()
        assert process.wait(timeout=15) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once stopped
