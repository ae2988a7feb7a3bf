"""SQLite files that one process owns and must not lose a commit of: the gallery, the spools, the
open hours of the hourly counts.

Each is opened the same way: an exclusive lock held from the first write until close (a second
process using the file is a configuration error, reported at once), WAL with ``synchronous=FULL``
(a commit is on disk when it returns), and explicit ``BEGIN IMMEDIATE`` transactions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def open_owned(path: str | Path, timeout_s: float = 0.0) -> sqlite3.Connection:
    """A connection to ``path`` with the pragmas above; ``sqlite3.Error`` when it cannot be used."""
    # isolation_level=None: transactions are exactly the explicit BEGIN/COMMIT of the callers.
    connection = sqlite3.connect(str(path), timeout=timeout_s, isolation_level=None)
    try:
        # Exclusive before WAL: no shared-memory index, and the first write takes the lock.
        for pragma in ("locking_mode=EXCLUSIVE", "journal_mode=WAL", "synchronous=FULL"):
            connection.execute(f"PRAGMA {pragma}")
    except sqlite3.Error:
        connection.close()
        raise
    return connection


@contextmanager
def immediate_transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception (then re-raised)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
