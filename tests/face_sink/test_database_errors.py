"""Transient vs permanent database errors, as the drivers raise them (``is_transient_error``).

SQLite errors come from a real sqlite3 connection; MySQL ones are built the way
mysql-connector-python builds them from a server's error number (``get_mysql_exception``), so the
classes are the ones a server would produce (lock wait timeout is a plain DatabaseError there).
Against a real MariaDB server: tests/kafka_bridge/test_mysql_event_store.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from face_sink.mysql_store import DatabaseUrlError, is_transient_error
from face_sink.schema import SchemaVersionError
from mysql.connector import errorcode, errors


def sqlite_error(tmp_path: Path, sql: str, holder: bool = False) -> sqlite3.Error:
    path = tmp_path / "db.sqlite"
    if holder:
        lock = sqlite3.connect(path, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
    connection = sqlite3.connect(path, timeout=0.0)
    with pytest.raises(sqlite3.Error) as caught:
        connection.execute(sql)
    return caught.value


def test_sqlite_locked_is_transient(tmp_path: Path):
    assert is_transient_error(sqlite_error(tmp_path, "CREATE TABLE t (x)", holder=True))


def test_sqlite_missing_folder_is_transient(tmp_path: Path):
    with pytest.raises(sqlite3.Error) as caught:
        sqlite3.connect(tmp_path / "not" / "there.sqlite")
    assert is_transient_error(caught.value)


@pytest.mark.parametrize(
    "sql", ["INSERT INTO face_events VALUES (1)", "SELECT no_such_column FROM sqlite_master", "SELEC 1"]
)
def test_sqlite_schema_and_statement_errors_are_permanent(tmp_path: Path, sql: str):
    assert not is_transient_error(sqlite_error(tmp_path, sql))


def test_sqlite_constraint_is_permanent(tmp_path: Path):
    connection = sqlite3.connect(tmp_path / "db.sqlite")
    connection.execute("CREATE TABLE t (x NOT NULL)")
    with pytest.raises(sqlite3.IntegrityError) as caught:
        connection.execute("INSERT INTO t VALUES (NULL)")
    assert not is_transient_error(caught.value)


@pytest.mark.parametrize(
    "name",
    [
        "CR_CONN_HOST_ERROR",
        "CR_SERVER_LOST",
        "CR_SERVER_GONE_ERROR",
        "ER_LOCK_WAIT_TIMEOUT",
        "ER_LOCK_DEADLOCK",
    ],
)
def test_mysql_unreachable_lost_lock_timeout_and_deadlock_are_transient(name: str):
    assert is_transient_error(errors.get_mysql_exception(getattr(errorcode, name), "msg", "HY000"))


@pytest.mark.parametrize(
    "name",
    [
        "ER_ACCESS_DENIED_ERROR",
        "ER_DBACCESS_DENIED_ERROR",
        "ER_BAD_DB_ERROR",
        "ER_NO_SUCH_TABLE",
        "ER_BAD_FIELD_ERROR",  # unknown column: a table of another schema
        "ER_DATA_TOO_LONG",
        "ER_BAD_NULL_ERROR",
    ],
)
def test_mysql_access_schema_and_data_errors_are_permanent(name: str):
    assert not is_transient_error(errors.get_mysql_exception(getattr(errorcode, name), "msg", "42000"))


def test_mysql_connector_errors_without_a_server_number():
    assert is_transient_error(errors.OperationalError("MySQL Connection not available"))
    assert not is_transient_error(errors.ProgrammingError("bad statement"))


def test_other_errors():
    assert is_transient_error(ConnectionRefusedError(111, "refused"))
    assert is_transient_error(FileExistsError(17, "a file where the folder should be"))
    assert not is_transient_error(PermissionError(13, "denied"))
    assert not is_transient_error(SchemaVersionError("database schema version 9 is newer"))
    assert not is_transient_error(DatabaseUrlError("unsupported database"))
