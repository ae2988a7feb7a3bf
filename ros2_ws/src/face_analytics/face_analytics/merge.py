"""``face_merge``: propose, and on ``--apply`` carry out, merges of face IDs that are one person.

A person whose first views did not match (other lighting, a turned head) was enrolled twice; later
views of both IDs then come close in the gallery. Two IDs are proposed for merging when the
minimum distance between their stored descriptors is under ``--threshold`` (a little under the
gallery's match threshold, so only IDs that would nearly match today are joined) and they were
never seen in one frame (one frame never shows one person twice). Proposals are grouped
transitively, closest pairs first, never joining two groups that hold IDs seen together; each group
keeps its lowest ID.

``--dry-run`` (the default) only lists the merges. ``--apply`` rewrites the event rows and the
visits, then moves the descriptors in the gallery, each in one transaction; a merged ID is never
issued again. The gallery belongs to the running identity node, so it must be stopped first: while
it holds the gallery nothing is read or changed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from face_sink.mysql_store import (
    DatabaseUrlError,
    add_database_option,
    add_visit_gap_option,
    describe_database,
    open_existing_store,
)
from identity_node.descriptor import DEFAULT_DESCRIPTOR_BACKEND, DESCRIPTOR_BACKENDS, DESCRIPTOR_SIZE
from identity_node.gallery import DEFAULT_MATCH_THRESHOLD
from identity_node.gallery_store import GalleryInUseError, GalleryStore

#: Under the match threshold (0.6): IDs only this close are joined, a margin against merging two
#: look-alikes, who typically stay near or above the match threshold.
DEFAULT_MERGE_THRESHOLD = DEFAULT_MATCH_THRESHOLD - 0.1
_ROWS_PER_BLOCK = 1024  # bounds the distance block to 1024 x n floats


@dataclass(frozen=True)
class MergePair:
    """Two close IDs whose groups the proposal joined (``low`` < ``high``)."""

    low: int
    high: int
    distance: float  # minimum distance between the two IDs' descriptors


@dataclass(frozen=True)
class MergePlan:
    """What a merge does: the accepted pairs (closest first) and ``{merged: survivor}``."""

    pairs: tuple[MergePair, ...]
    survivors: dict[int, int]


def close_id_pairs(
    face_ids: np.ndarray, vectors: np.ndarray, threshold: float
) -> dict[tuple[int, int], float]:
    """``{(lower, higher): minimum distance}`` for every two IDs with descriptors closer than
    ``threshold``; computed in row blocks so memory stays linear in the gallery size."""
    face_ids = np.asarray(face_ids, dtype=np.int64)
    vectors = np.asarray(vectors, dtype=np.float64).reshape(len(face_ids), -1)
    sq_norms = np.einsum("ij,ij->i", vectors, vectors)
    closest: dict[tuple[int, int], float] = {}
    for start in range(0, len(face_ids), _ROWS_PER_BLOCK):
        block = slice(start, start + _ROWS_PER_BLOCK)
        sq = sq_norms[block, None] + sq_norms[None, :] - 2.0 * (vectors[block] @ vectors.T)
        distances = np.sqrt(np.maximum(sq, 0.0))
        rows, cols = np.nonzero((distances < threshold) & (face_ids[block, None] < face_ids[None, :]))
        for row, col in zip(rows + start, cols, strict=True):
            pair = (int(face_ids[row]), int(face_ids[col]))
            distance = float(np.linalg.norm(vectors[row] - vectors[col]))  # exact, for the threshold
            if distance < threshold and distance < closest.get(pair, np.inf):
                closest[pair] = distance
    return closest


def plan_merges(
    close_pairs: dict[tuple[int, int], float], co_occurring: Collection[tuple[int, int]]
) -> MergePlan:
    """Group close IDs (union-find, closest pairs first), never joining groups with two IDs seen in
    one frame, even through a chain; each group's lowest ID survives."""
    apart = {(min(pair), max(pair)) for pair in co_occurring}
    group_of: dict[int, int] = {}  # union-find parent; a root is its group's lowest ID
    members: dict[int, set[int]] = {}

    def root(face_id: int) -> int:
        while group_of.setdefault(face_id, face_id) != face_id:
            face_id = group_of[face_id]
        return face_id

    accepted: list[MergePair] = []
    for (low, high), distance in sorted(close_pairs.items(), key=lambda item: (item[1], item[0])):
        a, b = root(low), root(high)
        if a == b:
            continue
        group_a, group_b = members.get(a, {a}), members.get(b, {b})
        if any((min(x, y), max(x, y)) in apart for x in group_a for y in group_b):
            continue
        survivor, merged = min(a, b), max(a, b)
        group_of[merged] = survivor
        members[survivor] = group_a | group_b
        members.pop(merged, None)
        accepted.append(MergePair(low, high, distance))
    survivors = {
        face_id: root(face_id) for group in members.values() for face_id in group if root(face_id) != face_id
    }
    return MergePlan(tuple(accepted), dict(sorted(survivors.items())))


def describe_plan(plan: MergePlan) -> list[str]:
    """One line per group (survivor and the IDs it takes over), then one per accepted pair."""
    groups: dict[int, list[int]] = {}
    for merged, survivor in plan.survivors.items():
        groups.setdefault(survivor, []).append(merged)
    lines = [f"{survivor} <- {', '.join(map(str, merged))}" for survivor, merged in sorted(groups.items())]
    return lines + [f"  pair {p.low}-{p.high}: distance {p.distance:.3f}" for p in plan.pairs]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_merge", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gallery", type=Path, default=Path("out/gallery.sqlite"), help="identity gallery file"
    )
    add_database_option(parser)
    parser.add_argument(
        "--descriptor-backend",
        choices=sorted(DESCRIPTOR_BACKENDS),
        default=DEFAULT_DESCRIPTOR_BACKEND,
        help="the backend that filled the gallery",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_MERGE_THRESHOLD,
        help="merge IDs whose nearest descriptors are closer than this (default %(default)g)",
    )
    add_visit_gap_option(parser, "for the survivors' recomputed visits (the sink's visit_gap_s)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", default=True, help="list the merges (default)")
    mode.add_argument("--apply", action="store_true", help="carry out the merges")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.gallery.is_file():
        print(f"face_merge: no gallery at {args.gallery}", file=sys.stderr)
        return 2
    kind = DESCRIPTOR_BACKENDS[args.descriptor_backend].name
    try:
        store = open_existing_store(args.database, visit_gap_s=args.visit_gap_s)
    except (DatabaseUrlError, ValueError) as err:
        print(f"face_merge: {err}", file=sys.stderr)
        return 2
    try:
        # The gallery's lock keeps the identity node out until the merge is done.
        try:
            gallery = GalleryStore(args.gallery, kind, DESCRIPTOR_SIZE)
        except GalleryInUseError as err:
            print(f"face_merge: {err}: stop the identity node first; nothing was merged", file=sys.stderr)
            return 2
        try:
            stored = gallery.load()
            plan = plan_merges(
                close_id_pairs(stored.face_ids, stored.vectors, args.threshold), store.co_occurring_face_ids()
            )
            for line in describe_plan(plan):
                print(line)
            if not args.apply:
                print(f"dry run: {len(plan.survivors)} IDs would be merged; --apply to merge")
                return 0
            # Events before descriptors: if the gallery step failed, a rerun proposes the same merges.
            events = store.merge_faces(plan.survivors)
            descriptors = gallery.merge(plan.survivors)
        finally:
            gallery.close()
    finally:
        store.close()
    print(
        f"{len(plan.survivors)} IDs merged: {descriptors} descriptors in {args.gallery}, "
        f"{events} events in {describe_database(args.database)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
