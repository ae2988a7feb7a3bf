"""FaceGallery and DescriptorMatrix on synthetic vectors: matching rule, bounded views, erasure, reload,
retention of IDs not seen again (fake clock)."""

from __future__ import annotations

import math
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from identity_node.gallery import DescriptorMatrix, FaceGallery
from identity_node.gallery_store import GalleryFormatError, GalleryInUseError, GalleryStore

DIM = 8


def unit(axis: int, length: float = 1.0) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[axis] = length
    return vector


def open_gallery(path: Path, **options: float) -> FaceGallery:
    return FaceGallery(path / "gallery.sqlite", descriptor_kind="synthetic", descriptor_size=DIM, **options)


@pytest.mark.parametrize(
    ("offset", "threshold", "same_face"),
    [
        (0.25, 0.5, True),
        (0.5, 0.5, False),  # "under the threshold": equal distance is a new face
        (0.75, 0.5, False),
        (0.59, None, True),  # None: the default threshold, 0.6
        (0.61, None, False),
    ],
)
def test_threshold_decides_match_or_enrol(
    tmp_path: Path, offset: float, threshold: float | None, same_face: bool
):
    options = {} if threshold is None else {"match_threshold": threshold}
    with open_gallery(tmp_path, **options) as gallery:
        first = gallery.match_or_enrol(unit(0))
        second = gallery.match_or_enrol(unit(0) + unit(1, offset))
    assert (first.face_id, first.new_face) == (1, True)
    assert math.isnan(first.distance)
    assert second.new_face is not same_face
    assert (second.face_id == first.face_id) is same_face
    assert second.distance == pytest.approx(offset, abs=1e-6)


def test_ids_are_monotonic_integers_and_the_nearest_face_wins(tmp_path: Path):
    with open_gallery(tmp_path) as gallery:
        ids = [gallery.match_or_enrol(unit(axis)).face_id for axis in range(4)]
        assert ids == [1, 2, 3, 4]
        # 0.1 from axis 2's face, >= 0.9 from every other: matches face 3 only
        assert gallery.match_or_enrol(unit(2) + unit(5, 0.1)).face_id == 3


def test_views_are_added_only_when_novel_and_bounded_keeping_the_anchor(tmp_path: Path):
    with open_gallery(tmp_path, max_descriptors_per_id=3, novelty_distance=0.3) as gallery:
        anchor = unit(0, 0.0)
        face_id = gallery.match_or_enrol(anchor).face_id
        gallery.match_or_enrol(unit(1, 0.2))  # too close to the anchor to be a new view
        assert gallery.descriptor_count(face_id) == 1
        views = [unit(axis, 0.4) for axis in range(1, 6)]
        for view in views:
            assert gallery.match_or_enrol(view).face_id == face_id
        assert gallery.descriptor_count(face_id) == 3
        # anchor + the two newest views survive; the older views were replaced oldest first
        assert gallery.match_or_enrol(anchor).distance == 0.0
        assert gallery.match_or_enrol(views[-1]).distance == 0.0
        assert gallery.match_or_enrol(views[-2]).distance == 0.0
        assert gallery.match_or_enrol(views[0]).distance == pytest.approx(0.4)


def test_one_descriptor_per_id_keeps_only_the_anchor(tmp_path: Path):
    with open_gallery(tmp_path, max_descriptors_per_id=1) as gallery:
        face_id = gallery.match_or_enrol(unit(0)).face_id
        gallery.match_or_enrol(unit(0) + unit(1, 0.5))
        assert gallery.descriptor_count(face_id) == 1


def test_erase_removes_every_descriptor_and_the_id_is_never_reused(tmp_path: Path):
    with open_gallery(tmp_path) as gallery:
        erased = gallery.match_or_enrol(unit(0)).face_id
        gallery.match_or_enrol(unit(0) + unit(1, 0.4))  # a second view of the same face
        kept = gallery.match_or_enrol(unit(2)).face_id
        assert gallery.erase(erased) == 2
        assert gallery.face_ids() == {kept}
        again = gallery.match_or_enrol(unit(0))
        assert again.new_face
        assert again.face_id == 3
    with open_gallery(tmp_path) as reloaded:
        assert reloaded.face_ids() == {kept, 3}
        assert reloaded.match_or_enrol(unit(4)).face_id == 4


def test_erased_descriptor_bytes_leave_the_file(tmp_path: Path):
    secret = np.random.default_rng(1).normal(size=DIM).astype(np.float32)
    with open_gallery(tmp_path) as gallery:
        gallery.match_or_enrol(unit(0, 5.0))
        face_id = gallery.match_or_enrol(secret).face_id
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
        assert secret.tobytes() in raw
        gallery.erase(face_id)
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
        assert secret.tobytes() not in raw


def test_reload_continues_ids_and_matches_the_same_faces(tmp_path: Path):
    faces = [unit(axis) for axis in range(3)]
    with open_gallery(tmp_path) as gallery:
        ids = [gallery.match_or_enrol(face).face_id for face in faces]
    with open_gallery(tmp_path) as reloaded:
        assert reloaded.face_ids() == set(ids)
        assert [reloaded.match_or_enrol(face).face_id for face in faces] == ids
        assert reloaded.match_or_enrol(unit(7)).face_id == max(ids) + 1


def test_a_second_owner_and_another_descriptor_kind_are_refused(tmp_path: Path):
    with open_gallery(tmp_path) as gallery:
        gallery.match_or_enrol(unit(0))
        with pytest.raises(GalleryInUseError):
            open_gallery(tmp_path)
    with pytest.raises(GalleryFormatError, match="not comparable"):
        FaceGallery(tmp_path / "gallery.sqlite", descriptor_kind="other", descriptor_size=DIM)
    with open_gallery(tmp_path) as reopened:  # a refused open released the file
        assert reopened.face_ids() == {1}


@pytest.mark.parametrize(
    "bad",
    [np.zeros(DIM - 1), np.full(DIM, np.nan), np.zeros((2, DIM))],
    ids=["short", "nan", "two-rows"],
)
def test_bad_descriptor_is_refused_and_nothing_is_issued(tmp_path: Path, bad: np.ndarray):
    with open_gallery(tmp_path) as gallery:
        with pytest.raises(ValueError, match="descriptor"):
            gallery.match_or_enrol(bad)
        assert gallery.last_face_id == 0
        assert gallery.match_or_enrol(unit(0)).face_id == 1


@pytest.mark.parametrize(("rows", "removed"), [(1, 0), (50, 10), (3000, 700)])
def test_matrix_nearest_equals_brute_force_after_growth_and_removal(rows: int, removed: int):
    rng = np.random.default_rng(rows)
    vectors = rng.normal(size=(rows, DIM)).astype(np.float32)
    keys = np.arange(rows) + 100
    matrix = DescriptorMatrix(DIM, initial_capacity=4)
    for start in range(0, rows, 512):  # several extends, crossing capacity doublings
        end = start + 512
        matrix.extend(keys[start:end], keys[start:end] * 10, vectors[start:end])
    gone = rng.choice(keys, size=removed, replace=False)
    matrix.remove(gone)
    alive = ~np.isin(keys, gone)
    assert len(matrix) == alive.sum()
    assert sorted(matrix.keys.tolist()) == keys[alive].tolist()
    for query in rng.normal(size=(20, DIM)).astype(np.float32):
        distances = np.linalg.norm(vectors[alive] - query, axis=1)
        row, distance = matrix.nearest(query)
        assert matrix.face_ids[row] == keys[alive][distances.argmin()] * 10
        assert distance == pytest.approx(distances.min(), rel=1e-6)


def test_empty_matrix_has_no_nearest():
    assert DescriptorMatrix(DIM).nearest(unit(0)) is None


def test_excluded_ids_are_never_matched(tmp_path: Path):
    with open_gallery(tmp_path) as gallery:
        first, second = gallery.match_or_enrol(unit(0)).face_id, gallery.match_or_enrol(unit(1)).face_id
        near_first = unit(0) + unit(5, 0.1)
        assert gallery.nearest(near_first) == (first, pytest.approx(0.1, abs=1e-6))
        # the nearest ID is taken: the next one is farther than the threshold, so enrol
        match = gallery.match_or_enrol(near_first, exclude_ids={first})
        assert match.new_face and match.face_id not in (first, second)
        # everything excluded behaves like an empty gallery
        assert gallery.match_or_enrol(unit(2), exclude_ids=gallery.face_ids()).new_face


def test_a_preferred_id_wins_only_while_it_is_itself_a_match(tmp_path: Path):
    with open_gallery(tmp_path, novelty_distance=1.0) as gallery:  # learn no views: fixed geometry
        preferred = gallery.match_or_enrol(unit(0)).face_id
        other = gallery.match_or_enrol(unit(0) + unit(1, 0.7)).face_id  # 0.7 apart: two IDs
        between = unit(0) + unit(1, 0.4)  # 0.4 from `preferred`, 0.3 from `other`
        assert gallery.match_or_enrol(between).face_id == other
        assert gallery.match_or_enrol(between, prefer_id=preferred).face_id == preferred
        near_other = unit(0) + unit(1, 0.7) + unit(2, 0.1)  # ~0.71 from `preferred`: no match
        assert gallery.match_or_enrol(near_other, prefer_id=preferred).face_id == other
        assert gallery.match_or_enrol(between, prefer_id=preferred, exclude_ids={preferred}).face_id == other


class FakeClock:
    """Wall clock of the gallery, moved by the test (ns)."""

    def __init__(self, now_s: float = 1_800_000_000.0) -> None:
        self.now_ns = round(now_s * 1e9)

    def advance(self, seconds: float) -> None:
        self.now_ns += round(seconds * 1e9)

    def __call__(self) -> int:
        return self.now_ns


DAY_S = 86_400.0


def test_ids_not_seen_for_the_maximum_age_expire_and_stay_retired(tmp_path: Path):
    clock = FakeClock()
    with open_gallery(tmp_path, clock_ns=clock) as gallery:
        gone, back, recent = (gallery.enrol(unit(axis)) for axis in range(3))
        clock.advance(5 * DAY_S)
        gallery.mark_seen([back])  # seen again after its enrolment
        clock.advance(4 * DAY_S)
        recent_view = gallery.match_or_enrol(unit(2))
        assert (recent_view.face_id, recent_view.new_face) == (recent, False)
        gallery.mark_seen([recent])
        assert gallery.expire_unseen(8 * DAY_S) == [gone]  # 9 days unseen; 4 and 0 days are kept
        assert not gallery.knows(gone) and gallery.face_ids() == {back, recent}
        clock.advance(5 * DAY_S)
        assert gallery.expire_unseen(8 * DAY_S) == [back]
    # On disk too, with the sightings saved on close: nothing more expires on reopening.
    with open_gallery(tmp_path, clock_ns=clock) as gallery:
        assert gallery.face_ids() == {recent}
        assert gallery.expire_unseen(8 * DAY_S) == []
        returning = gallery.match_or_enrol(unit(0))
        assert returning.new_face and returning.face_id == 4, "an expired ID is never issued again"


def test_a_gallery_from_before_retention_is_upgraded_with_its_ids_seen_now(tmp_path: Path):
    with open_gallery(tmp_path) as gallery:
        face_id = gallery.enrol(unit(0))
    connection = sqlite3.connect(tmp_path / "gallery.sqlite")  # as schema version 1 left it
    connection.executescript("DROP TABLE face_last_seen; PRAGMA user_version=1;")
    connection.close()
    clock = FakeClock(now_s=time.time() + 10 * DAY_S)
    with open_gallery(tmp_path, clock_ns=clock) as gallery:
        assert gallery.knows(face_id)
        assert gallery.expire_unseen(11 * DAY_S) == []
        assert gallery.expire_unseen(9 * DAY_S) == [face_id]


def test_a_merged_id_passes_its_last_sighting_to_the_survivor(tmp_path: Path):
    clock = FakeClock()
    with open_gallery(tmp_path, clock_ns=clock) as gallery:
        survivor = gallery.enrol(unit(0))
        clock.advance(5 * DAY_S)
        merged = gallery.enrol(unit(1))
    store = GalleryStore(tmp_path / "gallery.sqlite", "synthetic", DIM)  # as face_merge --apply does
    assert store.merge({merged: survivor}) == 1
    store.close()
    clock.advance(3 * DAY_S)
    with open_gallery(tmp_path, clock_ns=clock) as gallery:
        assert gallery.expire_unseen(4 * DAY_S) == []  # seen 3 days ago, as the merged ID
        assert gallery.expire_unseen(2 * DAY_S) == [survivor] and not gallery.knows(merged)
