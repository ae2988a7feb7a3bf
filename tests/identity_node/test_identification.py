"""Identity on real photos: one person -> one ID, different people -> different IDs."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from face_common.faces import UNKNOWN_FACE_ID, Box, Face, FrameFaces, FrameRef
from faces_from_images import detect_image_faces, largest_face_frame, read_csv
from identity_node.descriptor import FaceDescriptor
from identity_node.gallery import FaceGallery
from identity_node.identification import FaceIdentifier

MIN_F1 = 0.9


def pairwise_scores(persons: list[str], face_ids: list[int]) -> tuple[float, float, float]:
    """Precision, recall and F1 of "same ID" as a prediction of "same person", over all image pairs."""
    tp = fp = fn = 0
    for (person_a, id_a), (person_b, id_b) in combinations(zip(persons, face_ids, strict=True), 2):
        same_person, same_id = person_a == person_b, id_a == id_b
        tp += same_person and same_id
        fp += same_id and not same_person
        fn += same_person and not same_id
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@pytest.mark.parametrize(
    ("persons", "face_ids", "expected"),
    [
        (["a", "a", "b"], [1, 1, 2], (1.0, 1.0, 1.0)),
        (["a", "a", "b"], [1, 1, 1], (1 / 3, 1.0, 0.5)),
        (["a", "a", "b"], [1, 2, 3], (0.0, 0.0, 0.0)),
    ],
)
def test_pairwise_scores(persons, face_ids, expected):
    assert pairwise_scores(persons, face_ids) == pytest.approx(expected)


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory, face_data: Path, identity_labels, descriptor):
    """A fresh gallery fed every single-person image in CSV order: (identifier, persons, ids)."""
    gallery = FaceGallery(tmp_path_factory.mktemp("gallery") / "g.sqlite", descriptor_kind=descriptor.name)
    identifier = FaceIdentifier(descriptor, gallery)
    persons, face_ids = [], []
    for stamp, row in enumerate(identity_labels):
        frame = largest_face_frame(face_data / "identity" / row["path"], stamp_ns=stamp)
        assert identifier.identify(frame) == []
        persons.append(row["person"])
        face_ids.append(frame.faces[0].face_id)
    yield identifier, persons, face_ids
    gallery.close()


@pytest.mark.slow
def test_same_person_same_id_different_people_different_ids(enrolled):
    _, persons, face_ids = enrolled
    precision, recall, f1 = pairwise_scores(persons, face_ids)
    print(
        f"\nidentity over {len(persons)} images of {len(set(persons))} people -> {len(set(face_ids))} IDs: "
        f"pairwise precision={precision:.3f} recall={recall:.3f} F1={f1:.3f}"
    )
    assert f1 >= MIN_F1


@pytest.mark.slow
def test_group_photos_find_the_enrolled_people(enrolled, face_data: Path):
    """Several faces per frame (one batched descriptor call): known people get their IDs back."""
    identifier, persons, face_ids = enrolled
    id_of_person = {}
    for person, face_id in zip(persons, face_ids, strict=True):
        id_of_person.setdefault(person, []).append(face_id)
    for row in read_csv(face_data / "identity" / "group_photos.csv"):
        frame = detect_image_faces(face_data / "identity" / row["path"])
        assert identifier.identify(frame) == []
        frame_ids = {face.face_id for face in frame.faces}
        listed = row["persons"].split(";")
        known = [p for p in listed if p in id_of_person]
        for person in known:
            majority_id = max(set(id_of_person[person]), key=id_of_person[person].count)
            assert majority_id in frame_ids, f"{person} not recognised in {row['path']}"
        assert sum(face.new_face for face in frame.faces) >= len(listed) - len(known)


def test_faces_without_usable_crops_are_skipped_with_a_reason(
    tmp_path: Path, face_data: Path, identity_labels, descriptor
):
    good = largest_face_frame(face_data / "identity" / identity_labels[0]["path"]).faces[0]
    no_crop = Face(index=1, box=Box(0, 0, 10, 10), score=1.0)
    gray = Face(
        index=2,
        box=Box(0, 0, 10, 10),
        score=1.0,
        crop=np.zeros((20, 20), np.uint8),
        crop_box=Box(0, 0, 20, 20),
    )
    frame = FrameFaces(FrameRef("cam", 1), [no_crop, good, gray])
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind=descriptor.name) as gallery:
        problems = FaceIdentifier(descriptor, gallery).identify(frame)
    assert len(problems) == 2
    assert problems[0].startswith("face 1: no crop")
    assert "face 2" in problems[1]
    assert (no_crop.face_id, gray.face_id) == (UNKNOWN_FACE_ID, UNKNOWN_FACE_ID)
    assert (good.face_id, good.new_face) == (1, True)


class _FixedDescriptor(FaceDescriptor):
    """Returns preset vectors: lets the frame-level assignment rule be tested without a model."""

    name = "fixed"

    def __init__(self, vectors: list[np.ndarray]) -> None:
        self.vectors = vectors

    def describe_many(self, faces):
        return np.stack(self.vectors[: len(faces)])


def test_two_faces_of_one_frame_never_share_an_id(tmp_path: Path):
    known = np.eye(4, dtype=np.float32)[0]
    close, also_close = (
        known + 0.1 * np.eye(4, dtype=np.float32)[1],
        known + 0.3 * np.eye(4, dtype=np.float32)[2],
    )
    crop = np.zeros((40, 40, 3), np.uint8)
    faces = [
        Face(index=i, box=Box(10, 10, 20, 20), score=1.0, crop=crop, crop_box=Box(0, 0, 40, 40))
        for i in (0, 1)
    ]
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="fixed", descriptor_size=4) as gallery:
        known_id = gallery.match_or_enrol(known).face_id
        # the farther face comes first in the frame: the closer one must still win the known ID
        FaceIdentifier(_FixedDescriptor([also_close, close]), gallery).identify(
            FrameFaces(FrameRef("c", 1), faces)
        )
    assert faces[1].face_id == known_id and not faces[1].new_face
    assert faces[0].face_id != known_id and faces[0].new_face


class _CountingDescriptor(_FixedDescriptor):
    """Fixed vectors, counting how many faces were described."""

    def __init__(self, vectors: list[np.ndarray]) -> None:
        super().__init__(vectors)
        self.described = 0

    def describe_many(self, faces):
        self.described += len(faces)
        return super().describe_many(faces)


def textured_crop(seed: int = 0) -> np.ndarray:
    """A sharp 40x40 crop (random texture): a usable view for the quality score."""
    return np.random.default_rng(seed).integers(0, 256, (40, 40, 3), dtype=np.uint8)


def tracked_frame(stamp_s: float, track_id: int, box_size: int = 20, score: float = 1.0) -> FrameFaces:
    face = Face(
        index=0,
        box=Box(10, 10, box_size, box_size),
        score=score,
        crop=textured_crop(),
        crop_box=Box(0, 0, 40, 40),
        track_id=track_id,
    )
    return FrameFaces(FrameRef("c", round(stamp_s * 1e9)), [face])


def unit4(axis: int) -> np.ndarray:
    return np.eye(4, dtype=np.float32)[axis]


def test_a_new_track_is_enrolled_after_m_agreeing_views_then_described_only_for_better_views(
    tmp_path: Path,
) -> None:
    descriptor = _CountingDescriptor([unit4(0)])
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="fixed", descriptor_size=4) as gallery:
        identifier = FaceIdentifier(descriptor, gallery, min_views_to_enrol=3)
        frames = [tracked_frame(0.1 * i, track_id=7) for i in range(6)]
        for frame in frames:
            identifier.identify(frame)
        assert descriptor.described == 3  # three pending views, then none: no view was better
        assert [f.faces[0].face_id for f in frames] == [UNKNOWN_FACE_ID] * 2 + [1] * 4
        assert [f.faces[0].new_face for f in frames] == [False, False, True, False, False, False]
        # a clearly larger view of the same track is described again and keeps the ID
        bigger = tracked_frame(0.7, track_id=7, box_size=30)
        identifier.identify(bigger)
        assert descriptor.described == 4 and bigger.faces[0].face_id == 1


def test_views_are_capped_per_track(tmp_path: Path) -> None:
    descriptor = _CountingDescriptor([unit4(0)])
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="fixed", descriptor_size=4) as gallery:
        identifier = FaceIdentifier(descriptor, gallery, max_views=4, min_views_to_enrol=1)
        for i, size in enumerate(range(10, 40, 3)):  # every view better than the last
            identifier.identify(tracked_frame(0.1 * i, track_id=1, box_size=size))
    assert descriptor.described == 4


def test_a_one_frame_detection_never_becomes_a_customer(tmp_path: Path) -> None:
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="fixed", descriptor_size=4) as gallery:
        identifier = FaceIdentifier(_FixedDescriptor([unit4(0)]), gallery, min_views_to_enrol=3)
        glimpse = tracked_frame(0.0, track_id=1)
        identifier.identify(glimpse)
        assert glimpse.faces[0].face_id == UNKNOWN_FACE_ID and gallery.face_ids() == set()


def test_views_that_disagree_do_not_enrol(tmp_path: Path) -> None:
    """A track whose views are not one person (a tracker mix-up) stays unknown."""
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="fixed", descriptor_size=4) as gallery:
        descriptor = _FixedDescriptor([unit4(0)])
        identifier = FaceIdentifier(descriptor, gallery, min_views_to_enrol=3)
        for i, axis in enumerate((0, 1, 2)):  # pairwise sqrt(2) apart: no two views agree
            descriptor.vectors = [unit4(axis)]
            identifier.identify(tracked_frame(0.1 * i, track_id=1))
        assert gallery.face_ids() == set()


def test_a_returning_person_gets_the_known_id_once_the_track_has_m_views(tmp_path: Path) -> None:
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="fixed", descriptor_size=4) as gallery:
        known_id = gallery.enrol(unit4(0))
        identifier = FaceIdentifier(
            _FixedDescriptor([unit4(0) + 0.1 * unit4(1)]), gallery, min_views_to_enrol=2
        )
        frames = [tracked_frame(0.1 * i, track_id=5) for i in range(3)]
        for frame in frames:
            identifier.identify(frame)
        assert gallery.face_ids() == {known_id}  # nobody new
    assert [f.faces[0].face_id for f in frames] == [UNKNOWN_FACE_ID, known_id, known_id]
    assert not any(f.faces[0].new_face for f in frames)
    assert frames[-1].faces[0].distance == pytest.approx(0.1, abs=1e-6)


def test_a_track_that_turns_into_somebody_else_starts_over(tmp_path: Path) -> None:
    """A better view that no longer matches the track's ID (the tracker followed the box onto
    another person) un-names the track until its new views are decided."""
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="fixed", descriptor_size=4) as gallery:
        descriptor = _FixedDescriptor([unit4(0)])
        identifier = FaceIdentifier(descriptor, gallery, min_views_to_enrol=1)
        identifier.identify(tracked_frame(0.0, track_id=1, box_size=12))
        descriptor.vectors = [unit4(1)]
        switched = tracked_frame(0.1, track_id=1, box_size=30)
        identifier.identify(switched)
        assert switched.faces[0].face_id == 2 and switched.faces[0].new_face


def test_a_carried_box_is_not_described(tmp_path: Path) -> None:
    """Boxes the tracker carried through a frame without detection (score NaN) are never described."""
    descriptor = _CountingDescriptor([unit4(0)])
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="fixed", descriptor_size=4) as gallery:
        identifier = FaceIdentifier(descriptor, gallery, min_views_to_enrol=1)
        identifier.identify(tracked_frame(0.0, track_id=2))
        carried = tracked_frame(0.1, track_id=2, box_size=36, score=float("nan"))
        identifier.identify(carried)
    assert descriptor.described == 1 and carried.faces[0].face_id == 1


def test_an_untracked_or_long_unseen_track_is_described_again(tmp_path: Path) -> None:
    descriptor = _CountingDescriptor([unit4(0)])
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="fixed", descriptor_size=4) as gallery:
        identifier = FaceIdentifier(descriptor, gallery, min_views_to_enrol=1, track_ttl_s=1.0)
        identifier.identify(tracked_frame(0.0, track_id=3))
        identifier.identify(tracked_frame(0.1, track_id=3))  # same view: not described
        identifier.identify(tracked_frame(0.2, track_id=-1))  # no track: always described
        identifier.identify(tracked_frame(2.0, track_id=3))  # the track expired after 1 s
    assert descriptor.described == 3


def test_a_track_whose_id_was_erased_starts_over_and_never_shows_it_again(tmp_path: Path) -> None:
    """Erasure while the node runs: the person still in view is decided afresh, under a new ID."""
    with FaceGallery(tmp_path / "g.sqlite", descriptor_kind="fixed", descriptor_size=4) as gallery:
        identifier = FaceIdentifier(_FixedDescriptor([unit4(0)]), gallery, min_views_to_enrol=2)
        before = [tracked_frame(0.1 * i, track_id=3) for i in range(3)]
        for frame in before:
            identifier.identify(frame)
        assert before[-1].faces[0].face_id == 1
        assert gallery.erase(1) == 1
        after = [tracked_frame(0.4 + 0.1 * i, track_id=3) for i in range(3)]
        for frame in after:
            identifier.identify(frame)
        assert [f.faces[0].face_id for f in after] == [UNKNOWN_FACE_ID, 2, 2]
        assert gallery.face_ids() == {2}
