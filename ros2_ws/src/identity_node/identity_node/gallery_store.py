"""The gallery's durable copy: one SQLite file, written before any face ID leaves the process.

Every change is one transaction committed with ``synchronous=FULL`` in WAL mode, so when a method
returns the change is on disk and a ``kill -9`` (or power loss) afterwards cannot lose it; a kill
during the transaction leaves the previous state, which loads. Face IDs come from a counter row,
never from the descriptors present, so an erased ID is never issued again.

The file is opened with ``locking_mode=EXCLUSIVE``: one process owns a gallery. Two processes
matching against private in-memory copies of one file would enrol the same person under two IDs,
so a second owner is refused (:class:`GalleryInUseError`) instead; one identity node serves all
cameras. Erased descriptors are overwritten in the file (``secure_delete``) and the WAL is
checkpointed and truncated, so their bytes do not linger on disk.

Each ID's last sighting (``face_last_seen``) is kept so that descriptors of IDs not seen for a
configured time can be dropped (retention): a face that never comes back is not kept forever.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from face_common.owned_sqlite import immediate_transaction, open_owned

SCHEMA_VERSION = 2
"""2 added ``face_last_seen``; a version-1 file is upgraded on open (its IDs count as seen then)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS gallery_meta (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 0),
    descriptor_kind TEXT NOT NULL,
    descriptor_size INTEGER NOT NULL,
    last_face_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS descriptors (
    descriptor_key INTEGER PRIMARY KEY AUTOINCREMENT,
    face_id INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS descriptors_by_face ON descriptors (face_id);
CREATE TABLE IF NOT EXISTS face_last_seen (
    face_id INTEGER PRIMARY KEY,
    last_seen_ns INTEGER NOT NULL
);
"""


class GalleryInUseError(RuntimeError):
    """Another process owns the gallery file."""


class GalleryFormatError(RuntimeError):
    """The file is not a gallery this code can use (other schema, backend or vector size)."""


@dataclass
class StoredGallery:
    """Everything in the file, in insertion order (ascending ``keys`` = oldest first)."""

    last_face_id: int
    keys: np.ndarray  # int64 (n,)
    face_ids: np.ndarray  # int64 (n,)
    vectors: np.ndarray  # float32 (n, descriptor_size)
    last_seen_ns: dict[int, int]  # per face ID with descriptors: wall-clock ns of its last sighting


class GalleryStore:
    """SQLite persistence of face IDs and their descriptors (little-endian float32 blobs)."""

    def __init__(self, path: str | Path, descriptor_kind: str, descriptor_size: int) -> None:
        self._descriptor_size = descriptor_size
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = open_owned(path, timeout_s=1.0)
            try:
                self._conn.execute("PRAGMA secure_delete=ON")
                with immediate_transaction(self._conn):  # the first write takes the lock, held until close
                    # statement by statement: executescript() would commit the transaction first
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            self._conn.execute(statement)
                    self._check_or_init_meta(descriptor_kind)
            except BaseException:
                self._conn.close()  # also releases the lock when the file is refused
                raise
        except sqlite3.OperationalError as err:
            if "locked" in str(err):
                raise GalleryInUseError(f"gallery {path} is open in another process") from err
            raise

    def _check_or_init_meta(self, descriptor_kind: str) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        row = self._conn.execute("SELECT descriptor_kind, descriptor_size FROM gallery_meta").fetchone()
        if row is None:
            self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._conn.execute(
                "INSERT INTO gallery_meta VALUES (0, ?, ?, 0)", (descriptor_kind, self._descriptor_size)
            )
            return
        if version == 1:  # before retention: every ID counts as seen now, so none expires at once
            self._conn.execute(
                "INSERT OR IGNORE INTO face_last_seen SELECT DISTINCT face_id, ? FROM descriptors",
                (time.time_ns(),),
            )
            self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            raise GalleryFormatError(f"gallery schema version {version}, expected {SCHEMA_VERSION}")
        if tuple(row) != (descriptor_kind, self._descriptor_size):
            raise GalleryFormatError(
                f"gallery holds {row[1]}-D {row[0]!r} descriptors, not {self._descriptor_size}-D "
                f"{descriptor_kind!r}: they are not comparable (use another gallery file)"
            )

    def _blob(self, vector: np.ndarray) -> bytes:
        vector = np.asarray(vector, dtype="<f4")
        if vector.shape != (self._descriptor_size,):
            raise ValueError(f"descriptor must have shape ({self._descriptor_size},), got {vector.shape}")
        return vector.tobytes()

    def load(self) -> StoredGallery:
        last_face_id = self._conn.execute("SELECT last_face_id FROM gallery_meta").fetchone()[0]
        rows = self._conn.execute(
            "SELECT descriptor_key, face_id, vector FROM descriptors ORDER BY descriptor_key"
        ).fetchall()
        blob_size = 4 * self._descriptor_size
        bad = [key for key, _, blob in rows if len(blob) != blob_size]
        if bad:
            raise GalleryFormatError(f"descriptors {bad[:5]} do not hold {blob_size} bytes")
        vectors = np.frombuffer(b"".join(blob for _, _, blob in rows), dtype="<f4")
        seen = self._conn.execute("SELECT face_id, last_seen_ns FROM face_last_seen").fetchall()
        return StoredGallery(
            last_face_id=last_face_id,
            keys=np.array([row[0] for row in rows], dtype=np.int64),
            face_ids=np.array([row[1] for row in rows], dtype=np.int64),
            vectors=vectors.astype(np.float32).reshape(len(rows), self._descriptor_size),
            last_seen_ns=dict(seen),
        )

    def enrol(self, vector: np.ndarray, now_ns: int) -> tuple[int, int]:
        """Issue the next face ID with its first descriptor, seen at ``now_ns``, durably; return
        ``(face_id, key)``."""
        blob = self._blob(vector)
        with immediate_transaction(self._conn):
            (face_id,) = self._conn.execute(
                "UPDATE gallery_meta SET last_face_id = last_face_id + 1 RETURNING last_face_id"
            ).fetchone()
            key = self._conn.execute(
                "INSERT INTO descriptors (face_id, vector) VALUES (?, ?)", (face_id, blob)
            ).lastrowid
            self._conn.execute("INSERT INTO face_last_seen VALUES (?, ?)", (face_id, now_ns))
        return face_id, key

    def add_descriptor(self, face_id: int, vector: np.ndarray, replaces_key: int | None = None) -> int:
        """Store one more descriptor of ``face_id`` (dropping ``replaces_key`` in the same commit)."""
        blob = self._blob(vector)
        with immediate_transaction(self._conn):
            if replaces_key is not None:
                self._conn.execute("DELETE FROM descriptors WHERE descriptor_key = ?", (replaces_key,))
            key = self._conn.execute(
                "INSERT INTO descriptors (face_id, vector) VALUES (?, ?)", (face_id, blob)
            ).lastrowid
        return key

    def mark_seen(self, last_seen_ns: Mapping[int, int]) -> None:
        """Record later sightings of known IDs in one transaction (an earlier time never wins)."""
        with immediate_transaction(self._conn):
            self._conn.executemany(
                "UPDATE face_last_seen SET last_seen_ns = MAX(last_seen_ns, ?) WHERE face_id = ?",
                [(int(seen), int(face_id)) for face_id, seen in last_seen_ns.items()],
            )

    def erase(self, face_id: int) -> int:
        """Delete every descriptor of ``face_id`` and scrub them from the file; return how many."""
        with immediate_transaction(self._conn):
            removed = self._conn.execute("DELETE FROM descriptors WHERE face_id = ?", (face_id,)).rowcount
            self._conn.execute("DELETE FROM face_last_seen WHERE face_id = ?", (face_id,))
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def merge(self, survivors: Mapping[int, int]) -> int:
        """Give each merged ID's descriptors to its survivor (``{merged: survivor}``) in one
        transaction; return how many moved.

        The counter row is left alone, so a merged ID, like an erased one, is never issued again.
        """
        moved = 0
        with immediate_transaction(self._conn):
            for merged, survivor in sorted(survivors.items()):
                pair = (int(survivor), int(merged))
                moved += self._conn.execute(
                    "UPDATE descriptors SET face_id = ? WHERE face_id = ?", pair
                ).rowcount
                # The survivor was last seen when either of the two was.
                self._conn.execute(
                    "UPDATE face_last_seen SET last_seen_ns = MAX(last_seen_ns, COALESCE("
                    "(SELECT last_seen_ns FROM face_last_seen WHERE face_id = ?2), 0)) WHERE face_id = ?1",
                    pair,
                )
                self._conn.execute("DELETE FROM face_last_seen WHERE face_id = ?", (pair[1],))
        return moved

    def close(self) -> None:
        self._conn.close()
