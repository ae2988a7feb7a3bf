"""The sink writer against a real MariaDB server (``mariadb`` fixture): a server it cannot reach is
transient (retried), access denied and a table of another schema are permanent (the writer says
so, the events stay spooled) and, once the table is fixed, the spooled events are written once.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import mysql.connector
from face_common.faces import Box, FaceEvent
from face_sink.mysql_store import open_store, parse_mysql_url
from face_sink.writer import FlushResult, RetryingEventWriter
from kafka_bridge.local_broker import free_port

T0_NS = 1_764_000_000_000_000_000


def events(camera: str, count: int) -> list[FaceEvent]:
    return [
        FaceEvent(camera, T0_NS + i * 10**9, 0, 1, 30.0, "male", Box(0, 0, 10, 10), 0.2, False)
        for i in range(count)
    ]


def with_netloc(dsn: str, netloc: str) -> str:
    return urlsplit(dsn)._replace(netloc=netloc).geturl()


def first_flush(url: str, tmp_path: Path, camera: str) -> tuple[RetryingEventWriter, FlushResult]:
    # env={}: the URL's password, not $FACE_DB_PASSWORD, is the one tried
    writer = RetryingEventWriter(lambda: open_store(url, env={}), spool_path=tmp_path / "sink.spool")
    assert writer.submit(events(camera, 3)) == []
    return writer, writer.flush()


def test_an_unreachable_server_is_transient(mariadb: str, tmp_path: Path) -> None:
    parts = urlsplit(mariadb)
    closed = with_netloc(mariadb, f"{parts.username}:{parts.password}@127.0.0.1:{free_port()}")
    writer, result = first_flush(closed, tmp_path, "unreachable")
    assert result.error and "2003" in result.error and not result.permanent
    writer.close()


def test_access_denied_is_permanent(mariadb: str, tmp_path: Path) -> None:
    parts = urlsplit(mariadb)
    wrong = with_netloc(mariadb, f"{parts.username}:wrong-password@{parts.hostname}:{parts.port}")
    writer, result = first_flush(wrong, tmp_path, "denied")
    assert result.permanent and "Access denied" in result.error and writer.pending == 3
    writer.close()


def test_a_table_of_another_schema_is_permanent_and_the_events_wait_for_the_fix(
    mariadb: str, tmp_path: Path
) -> None:
    store = open_store(mariadb)  # the tables exist; then someone renames a column
    store.close()
    admin = mysql.connector.connect(
        **{**parse_mysql_url(mariadb, {}).connect_arguments(), "autocommit": True}
    )
    cursor = admin.cursor()
    cursor.execute("DELETE FROM face_events WHERE camera_id = 'schema'")
    cursor.execute("ALTER TABLE face_events RENAME COLUMN age TO age_years")
    try:
        writer, result = first_flush(mariadb, tmp_path, "schema")
        assert result.permanent and "Unknown column 'age'" in result.error, result
        assert writer.pending == 3
        writer.close()
    finally:
        cursor.execute("ALTER TABLE face_events RENAME COLUMN age_years TO age")
    writer = RetryingEventWriter(lambda: open_store(mariadb), spool_path=tmp_path / "sink.spool")
    result = writer.flush()
    assert (result.error, result.inserted, writer.pending) == (None, 3, 0)
    writer.close()
    cursor.execute("SELECT COUNT(*) FROM face_events WHERE camera_id = 'schema'")
    assert cursor.fetchone() == (3,)
    admin.close()
