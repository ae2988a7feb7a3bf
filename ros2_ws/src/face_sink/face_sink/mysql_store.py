"""Opening the event store from one database URL: a SQLite file or a MySQL/MariaDB server.

Every program that writes or reads events (the sink node, ``events_to_db``, ``face_report``) takes
the same ``database`` setting and opens it through :func:`open_store`, so "where the events are" is
one string in a launch file or a command line:

- ``out/events.sqlite`` or ``sqlite:///out/events.sqlite`` (``sqlite:////abs/path`` for an absolute
  path, as in SQLAlchemy): the embedded SQLite store;
- ``mysql://user@host:3306/database``: a MySQL or MariaDB server through ``mysql-connector-python``.
  The password comes from ``$FACE_DB_PASSWORD`` (which wins over one written in the URL), so launch
  files and command lines, which ``ps`` and logs show, never carry it. Query options pass
  connection settings the server may need: ``unix_socket``, ``ssl_ca``, ``ssl_cert``, ``ssl_key``,
  ``ssl_verify_cert``, ``ssl_disabled``, ``connect_timeout``.

:func:`describe_database` is the log-safe form of a URL (the password removed).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from face_sink.schema import DEFAULT_SQLITE_PATH, MYSQL, EventStore, open_sqlite_store
from face_sink.visits import DEFAULT_VISIT_GAP_S

PASSWORD_ENV = "FACE_DB_PASSWORD"
MYSQL_SCHEME = "mysql"
SQLITE_SCHEME = "sqlite"
DEFAULT_MYSQL_PORT = 3306
DEFAULT_CONNECT_TIMEOUT_S = 5
"""A server that is down must fail a write quickly so the writer can queue and retry."""

_TEXT_OPTIONS = ("unix_socket", "ssl_ca", "ssl_cert", "ssl_key")
_FLAG_OPTIONS = ("ssl_verify_cert", "ssl_disabled")
_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


class DatabaseUrlError(ValueError):
    """A database setting that names no store this code can open."""


_SQLITE_TRANSIENT = frozenset(
    {
        sqlite3.SQLITE_BUSY,  # another connection writes: "database is locked"
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_CANTOPEN,  # its folder not there (yet): a volume not mounted
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,  # disk full: space can be freed
        sqlite3.SQLITE_PROTOCOL,
    }
)
_MYSQL_TRANSIENT = (
    "CR_CONNECTION_ERROR",  # connection refused (socket)
    "CR_CONN_HOST_ERROR",  # connection refused (TCP)
    "CR_UNKNOWN_HOST",  # name service away
    "CR_SERVER_GONE_ERROR",
    "CR_SERVER_LOST",
    "CR_SERVER_LOST_EXTENDED",
    "ER_CON_COUNT_ERROR",
    "ER_TOO_MANY_USER_CONNECTIONS",
    "ER_SERVER_SHUTDOWN",
    "ER_LOCK_WAIT_TIMEOUT",
    "ER_LOCK_DEADLOCK",
    "ER_QUERY_INTERRUPTED",
    "ER_OPTION_PREVENTS_STATEMENT",  # --read-only during a fail-over
    "ER_NET_READ_ERROR",
    "ER_NET_READ_INTERRUPTED",
    "ER_NET_ERROR_ON_WRITE",
    "ER_NET_WRITE_INTERRUPTED",
)
MARIADB_CONNECTION_KILLED = 1927


def is_transient_error(error: BaseException) -> bool:
    """Whether writing again later may succeed: the database is unreachable, busy, locked or in a
    deadlock. Anything else (unknown table or column, a schema from other code, access denied,
    data the table refuses, a bad URL) fails the same way on every retry, so the caller stops
    rather than queue behind it forever."""
    if isinstance(error, sqlite3.Error):
        return getattr(error, "sqlite_errorcode", 0) & 0xFF in _SQLITE_TRANSIENT
    mysql_errors = sys.modules.get("mysql.connector.errors")  # loaded with the driver, if ever used
    if mysql_errors is not None and isinstance(error, mysql_errors.Error):
        from mysql.connector import errorcode

        transient = {getattr(errorcode, name) for name in _MYSQL_TRANSIENT} | {MARIADB_CONNECTION_KILLED}
        if error.errno in transient:
            return True
        # No server error number: the connector's own "connection not available"-type errors.
        no_errno = error.errno is None or error.errno < 0
        return no_errno and isinstance(error, mysql_errors.InterfaceError | mysql_errors.OperationalError)
    # A socket or a folder that is not there (yet); a permission the operator must grant is not.
    return isinstance(error, OSError) and not isinstance(error, PermissionError)


@dataclass(frozen=True)
class MysqlSettings:
    """Where a MySQL/MariaDB event store is; ``password`` is kept out of ``repr``."""

    host: str
    port: int
    user: str
    database: str
    password: str = field(default="", repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)

    def connect_arguments(self) -> dict[str, Any]:
        """Keyword arguments of ``mysql.connector.connect``."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "database": self.database,
            "autocommit": False,
            "connection_timeout": DEFAULT_CONNECT_TIMEOUT_S,
            **self.options,
        }


def _scheme(url: str) -> str | None:
    """The URL scheme, or None for a plain path (a Windows drive letter is not a scheme)."""
    scheme, separator, _ = url.partition("://")
    return scheme.lower() if separator and len(scheme) > 1 else None


def sqlite_path(url: str | Path) -> Path | None:
    """The SQLite file a database setting names, or None when it names a server."""
    text = str(url)
    scheme = _scheme(text)
    if scheme is None:
        return Path(text)
    if scheme != SQLITE_SCHEME:
        return None
    if not text.startswith(f"{SQLITE_SCHEME}:///") or len(text) == len(f"{SQLITE_SCHEME}:///"):
        raise DatabaseUrlError(
            f"SQLite URL must look like sqlite:///relative/path or sqlite:////abs/path: {text}"
        )
    return Path(text[len(f"{SQLITE_SCHEME}:///") :])


def _option(name: str, value: str) -> tuple[str, object]:
    """A URL query option as a ``mysql.connector.connect`` keyword argument."""
    if name in _TEXT_OPTIONS:
        return name, value
    if name in _FLAG_OPTIONS:
        if value.lower() not in _TRUE | _FALSE:
            raise DatabaseUrlError(f"database URL option {name} must be true or false, got {value!r}")
        return name, value.lower() in _TRUE
    if name == "connect_timeout":
        try:
            return "connection_timeout", int(value)
        except ValueError:
            raise DatabaseUrlError(
                f"database URL option connect_timeout must be seconds, got {value!r}"
            ) from None
    known = ", ".join((*_TEXT_OPTIONS, *_FLAG_OPTIONS, "connect_timeout"))
    raise DatabaseUrlError(f"unknown database URL option {name!r}; known: {known}")


def parse_mysql_url(url: str, env: Mapping[str, str] | None = None) -> MysqlSettings:
    """``mysql://user[:password]@host[:port]/database[?option=value...]``, password from the env first."""
    env = os.environ if env is None else env
    parts = urlsplit(url)
    if parts.scheme.lower() != MYSQL_SCHEME:
        raise DatabaseUrlError(f"not a mysql:// URL: {describe_database(url)}")
    try:
        port = parts.port or DEFAULT_MYSQL_PORT
    except ValueError:
        raise DatabaseUrlError(f"database URL has a bad port: {describe_database(url)}") from None
    database = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not parts.username or not database or "/" in database:
        raise DatabaseUrlError(
            f"database URL must look like mysql://user@host:port/database, got {describe_database(url)}"
        )
    options = dict(_option(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True))
    password = env.get(PASSWORD_ENV) or unquote(parts.password or "")
    return MysqlSettings(parts.hostname, port, unquote(parts.username), database, password, options)


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """``--database``, the event store every command reads or writes, with one default and help."""
    parser.add_argument(
        "--database",
        default=str(DEFAULT_SQLITE_PATH),
        help="event store: SQLite file, sqlite:///path or mysql://user@host:port/db "
        "(password in $FACE_DB_PASSWORD)",
    )


def add_visit_gap_option(parser: argparse.ArgumentParser, purpose: str) -> None:
    """``--visit-gap-s``: the gap that ends a visit, with the sink's default; ``purpose`` says
    what this command uses it for (it should match the sink's ``visit_gap_s``)."""
    parser.add_argument(
        "--visit-gap-s",
        type=float,
        default=DEFAULT_VISIT_GAP_S,
        help=f"appearances further apart than this start a new visit, {purpose} (default %(default)s)",
    )


def describe_database(url: str | Path) -> str:
    """The database setting as it may appear in a log: any password replaced by ``***``."""
    text = str(url)
    if _scheme(text) is None:
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


def connect_mysql(settings: MysqlSettings) -> Any:
    """A ``mysql-connector-python`` connection (imported here: SQLite-only installs need no driver)."""
    import mysql.connector

    return mysql.connector.connect(**settings.connect_arguments())


def open_mysql_store(settings: MysqlSettings, visit_gap_s: float = DEFAULT_VISIT_GAP_S) -> EventStore:
    """Connect and create the tables when missing (safe on every start)."""
    connection = connect_mysql(settings)
    try:
        store = EventStore(connection, MYSQL, visit_gap_s)
        store.ensure_schema()
    except BaseException:
        connection.close()
        raise
    return store


def open_store(
    url: str | Path, env: Mapping[str, str] | None = None, visit_gap_s: float = DEFAULT_VISIT_GAP_S
) -> EventStore:
    """The event store a database setting names (module docstring), schema ensured.

    ``visit_gap_s`` is the gap that ends a visit in the visits table the store keeps."""
    path = sqlite_path(url)
    if path is not None:
        return open_sqlite_store(path, visit_gap_s=visit_gap_s)
    if _scheme(str(url)) == MYSQL_SCHEME:
        return open_mysql_store(parse_mysql_url(str(url), env), visit_gap_s)
    raise DatabaseUrlError(
        f"unsupported database {describe_database(url)}: use a file path, sqlite:///path or mysql://..."
    )


def open_existing_store(url: str | Path, visit_gap_s: float = DEFAULT_VISIT_GAP_S) -> EventStore:
    """:func:`open_store`, refusing a SQLite file that does not exist: a command that reads or
    changes events must not create an empty store (and report nothing as if all were well)."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise DatabaseUrlError(f"no event database at {path}")
    return open_store(url, visit_gap_s=visit_gap_s)
