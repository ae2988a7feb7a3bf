"""The face gallery: nearest known face by Euclidean distance, else a new anonymous face ID.

Policy (what :meth:`FaceGallery.match_or_enrol` does with a descriptor ``q``):

1. Find the nearest stored descriptor. If its distance ``d`` is **under** ``match_threshold``
   (default 0.6, the threshold of dlib's LFW evaluation), ``q`` is that descriptor's face ID.
2. Else enrol: issue the next integer face ID (monotonic; never reused, even after erasure;
   never a name) with ``q`` as its first descriptor, the ID's *anchor*.
3. A matched face also teaches its ID a new view when ``d >= novelty_distance``: ``q`` is added
   to that ID's descriptors. An ID keeps at most ``max_descriptors_per_id``; when full, the
   oldest descriptor other than the anchor is replaced. Keeping the anchor stops an ID from
   drifting, one replaced view at a time, towards somebody else; replacing the oldest of the rest
   keeps recent views (today's lighting, glasses) ahead of stale ones.

Every enrolment and added descriptor is committed to the :class:`GalleryStore` before the call
returns, so an ID is on disk before anybody can publish it.

Retention: each ID's last sighting (the gallery's clock, injectable for tests) is kept in memory
and saved in batches (:meth:`FaceGallery.save_last_seen`, at every retention check and on close),
not on every frame: one fsync per face seen would cost more than the match. A crash loses at most
the sightings since the last save, which can only make an ID expire earlier, never later.
:meth:`FaceGallery.expire_unseen` erases the IDs not seen for a given time; they stay retired.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from identity_node.gallery_store import GalleryStore

DEFAULT_MATCH_THRESHOLD = 0.6
DEFAULT_MAX_DESCRIPTORS_PER_ID = 8
#: Same-person dlib descriptors from one session typically lie 0.2-0.4 apart; closer ones add
#: little that the ID does not already know.
DEFAULT_NOVELTY_DISTANCE = 0.3


@dataclass(frozen=True)
class Match:
    """Answer for one descriptor: its face ID, the distance to the nearest stored descriptor
    (NaN when the gallery was empty) and whether the ID was enrolled by this call."""

    face_id: int
    distance: float
    new_face: bool


class DescriptorMatrix:
    """All stored descriptors as one contiguous float32 matrix, so a query is one BLAS
    matrix-vector product, whatever the number of faces.

    Rows live in a preallocated buffer that doubles when full; removal moves the last row into
    the hole, so rows stay contiguous without copying the matrix. The nearest row is found with
    ``|x - q|^2 = |x|^2 - 2 x.q + |q|^2`` (row norms cached, ``|q|^2`` constant), then its
    distance is recomputed exactly in float64, so threshold decisions do not depend on rounding.
    """

    def __init__(self, dim: int, initial_capacity: int = 1024) -> None:
        self.dim = dim
        self._count = 0
        self._vectors = np.empty((initial_capacity, dim), dtype=np.float32)
        self._sq_norms = np.empty(initial_capacity, dtype=np.float32)
        self._face_ids = np.empty(initial_capacity, dtype=np.int64)
        self._keys = np.empty(initial_capacity, dtype=np.int64)

    def __len__(self) -> int:
        return self._count

    @property
    def face_ids(self) -> np.ndarray:
        """Face ID of every row (a view: do not modify)."""
        return self._face_ids[: self._count]

    @property
    def keys(self) -> np.ndarray:
        """Store key of every row (a view: do not modify)."""
        return self._keys[: self._count]

    def _reserve(self, needed: int) -> None:
        capacity = max(len(self._keys), 1)
        if needed <= len(self._keys):
            return
        while capacity < needed:
            capacity *= 2
        for name in ("_vectors", "_sq_norms", "_face_ids", "_keys"):
            old = getattr(self, name)
            new = np.empty((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: self._count] = old[: self._count]
            setattr(self, name, new)

    def extend(self, keys: np.ndarray, face_ids: np.ndarray, vectors: np.ndarray) -> None:
        """Append rows (bulk: loading a gallery adds all its rows in one call)."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        n = len(vectors)
        if len(keys) != n or len(face_ids) != n:
            raise ValueError("keys, face_ids and vectors must have the same length")
        self._reserve(self._count + n)
        rows = slice(self._count, self._count + n)
        self._vectors[rows] = vectors
        self._sq_norms[rows] = np.einsum("ij,ij->i", vectors, vectors)
        self._face_ids[rows] = face_ids
        self._keys[rows] = keys
        self._count += n

    def remove(self, keys: np.ndarray | list[int]) -> None:
        """Drop the rows with these store keys (unknown keys are ignored)."""
        rows = np.flatnonzero(np.isin(self.keys, keys))
        for row in rows[::-1]:  # descending: a moved last row is never one still to remove
            last = self._count - 1
            for array in (self._vectors, self._sq_norms, self._face_ids, self._keys):
                array[row] = array[last]
            self._count = last

    def nearest(self, query: np.ndarray, exclude_ids: Collection[int] = ()) -> tuple[int, float] | None:
        """``(row, distance)`` of the stored descriptor nearest to ``query``, ignoring the rows
        of ``exclude_ids``; None when no row is left."""
        if self._count == 0:
            return None
        query = np.asarray(query, dtype=np.float32)
        matrix = self._vectors[: self._count]
        scores = self._sq_norms[: self._count] - 2.0 * (matrix @ query)
        if exclude_ids:
            scores[np.isin(self.face_ids, list(exclude_ids))] = np.inf
        row = int(np.argmin(scores))
        if not np.isfinite(scores[row]):
            return None
        distance = float(np.linalg.norm(matrix[row].astype(np.float64) - query.astype(np.float64)))
        return row, distance

    def nearest_of(self, query: np.ndarray, face_id: int) -> tuple[int, float] | None:
        """``(row, distance)`` of ``face_id``'s view nearest to ``query``; None when it has none."""
        rows = np.flatnonzero(self.face_ids == face_id)
        if rows.size == 0:
            return None
        query = np.asarray(query, dtype=np.float64)
        distances = np.linalg.norm(self._vectors[rows].astype(np.float64) - query, axis=1)
        best = int(np.argmin(distances))
        return int(rows[best]), float(distances[best])


class FaceGallery:
    """Known faces, matched in memory and persisted in SQLite (see the module docstring).

    Not thread-safe: one caller at a time (the identity node has a single-threaded executor).
    """

    def __init__(
        self,
        path: str | Path,
        descriptor_kind: str,
        descriptor_size: int = 128,
        match_threshold: float = DEFAULT_MATCH_THRESHOLD,
        max_descriptors_per_id: int = DEFAULT_MAX_DESCRIPTORS_PER_ID,
        novelty_distance: float = DEFAULT_NOVELTY_DISTANCE,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if match_threshold <= 0:
            raise ValueError(f"match_threshold must be > 0, got {match_threshold}")
        if max_descriptors_per_id < 1:
            raise ValueError(f"max_descriptors_per_id must be >= 1, got {max_descriptors_per_id}")
        self.match_threshold = match_threshold
        self.max_descriptors_per_id = max_descriptors_per_id
        self.novelty_distance = novelty_distance
        self.path = Path(path)
        self._clock_ns = clock_ns
        self._store = GalleryStore(path, descriptor_kind, descriptor_size)
        stored = self._store.load()
        self.last_face_id = stored.last_face_id
        self._last_seen_ns = stored.last_seen_ns
        self._unsaved_seen: set[int] = set()
        self._matrix = DescriptorMatrix(descriptor_size, initial_capacity=max(1024, len(stored.keys)))
        self._matrix.extend(stored.keys, stored.face_ids, stored.vectors)

    def __enter__(self) -> FaceGallery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.save_last_seen()
        self._store.close()

    def face_ids(self) -> set[int]:
        """IDs that currently have descriptors (erased IDs are gone)."""
        return {int(face_id) for face_id in np.unique(self._matrix.face_ids)}

    def knows(self, face_id: int) -> bool:
        """Whether ``face_id`` has descriptors here (False once erased or expired)."""
        return face_id in self._last_seen_ns

    def descriptor_count(self, face_id: int) -> int:
        return int(np.count_nonzero(self._matrix.face_ids == face_id))

    def _checked(self, descriptor: np.ndarray) -> np.ndarray:
        descriptor = np.asarray(descriptor, dtype=np.float32)
        if descriptor.shape != (self._matrix.dim,) or not np.all(np.isfinite(descriptor)):
            raise ValueError(
                f"descriptor must be {self._matrix.dim} finite values, got shape {descriptor.shape}"
            )
        return descriptor

    def nearest(
        self, descriptor: np.ndarray, exclude_ids: Collection[int] = (), prefer_id: int | None = None
    ) -> tuple[int, float] | None:
        """``(face_id, distance)`` of the nearest known face, whether or not it is a match.

        ``exclude_ids`` are IDs that cannot be this face (already given to another face of the
        same frame: one frame never shows one person twice). ``prefer_id`` (the ID this face's
        track already has) wins whenever it is itself a match, even if another ID is a little
        nearer: a person whose descriptor sits between two IDs keeps one instead of flickering.
        None when no ID is left to compare with.
        """
        descriptor = self._checked(descriptor)
        if prefer_id is not None and prefer_id not in exclude_ids:
            preferred = self._matrix.nearest_of(descriptor, prefer_id)
            if preferred is not None and preferred[1] < self.match_threshold:
                return prefer_id, preferred[1]
        nearest = self._matrix.nearest(descriptor, exclude_ids)
        return None if nearest is None else (int(self._matrix.face_ids[nearest[0]]), nearest[1])

    def enrol(self, descriptor: np.ndarray) -> int:
        """Issue a new durable face ID with ``descriptor`` as its anchor view."""
        descriptor = self._checked(descriptor)
        now_ns = self._clock_ns()
        face_id, key = self._store.enrol(descriptor, now_ns)
        self.last_face_id = face_id
        self._last_seen_ns[face_id] = now_ns
        self._matrix.extend(np.array([key]), np.array([face_id]), descriptor[None])
        return face_id

    def learn(self, face_id: int, descriptor: np.ndarray, distance: float) -> None:
        """Keep ``descriptor`` as a view of ``face_id`` when it is novel (``distance`` to the ID's
        nearest view at least ``novelty_distance``)."""
        if distance >= self.novelty_distance:
            self._learn_view(face_id, self._checked(descriptor))

    def match_or_enrol(
        self, descriptor: np.ndarray, exclude_ids: Collection[int] = (), prefer_id: int | None = None
    ) -> Match:
        """The face ID of ``descriptor``: the nearest known face's (see :meth:`nearest`) when
        closer than ``match_threshold``, else a new durable one."""
        nearest = self.nearest(descriptor, exclude_ids, prefer_id)
        if nearest is None or nearest[1] >= self.match_threshold:
            face_id = self.enrol(descriptor)
            return Match(face_id, math.nan if nearest is None else nearest[1], new_face=True)
        face_id, distance = nearest
        self.learn(face_id, descriptor, distance)
        return Match(face_id, distance, new_face=False)

    def _learn_view(self, face_id: int, descriptor: np.ndarray) -> None:
        """Add a new view of ``face_id``, replacing its oldest non-anchor one when full."""
        keys = np.sort(self._matrix.keys[self._matrix.face_ids == face_id])  # ascending = oldest first
        if len(keys) < self.max_descriptors_per_id:
            replaced = None
        elif self.max_descriptors_per_id > 1:
            replaced = int(keys[1])  # keys[0] is the anchor
        else:
            return  # only the anchor is kept
        key = self._store.add_descriptor(face_id, descriptor, replaces_key=replaced)
        if replaced is not None:
            self._matrix.remove([replaced])
        self._matrix.extend(np.array([key]), np.array([face_id]), descriptor[None])

    def erase(self, face_id: int) -> int:
        """Forget ``face_id`` everywhere (file and memory); return how many descriptors went.

        The ID itself stays issued: it is never given to anybody else.
        """
        removed = self._store.erase(face_id)
        self._matrix.remove(self._matrix.keys[self._matrix.face_ids == face_id])
        self._last_seen_ns.pop(face_id, None)
        self._unsaved_seen.discard(face_id)
        return removed

    def mark_seen(self, face_ids: Iterable[int]) -> None:
        """Note that these known IDs were seen now (in memory until :meth:`save_last_seen`)."""
        now_ns = self._clock_ns()
        for face_id in face_ids:
            if face_id in self._last_seen_ns:
                self._last_seen_ns[face_id] = now_ns
                self._unsaved_seen.add(face_id)

    def save_last_seen(self) -> None:
        """Write the sightings noted since the last save (one transaction)."""
        if self._unsaved_seen:
            self._store.mark_seen({face_id: self._last_seen_ns[face_id] for face_id in self._unsaved_seen})
            self._unsaved_seen.clear()

    def expire_unseen(self, max_age_s: float) -> list[int]:
        """Erase every ID not seen for over ``max_age_s`` (retention); return those IDs, ascending.

        Like an erased ID, an expired one is never issued again: a returning face gets a new ID.
        """
        if max_age_s <= 0:
            raise ValueError(f"maximum age must be positive, got {max_age_s} s")
        self.save_last_seen()
        cutoff_ns = self._clock_ns() - round(max_age_s * 1e9)
        expired = sorted(face_id for face_id, seen in self._last_seen_ns.items() if seen < cutoff_ns)
        for face_id in expired:
            self.erase(face_id)
        return expired
