"""face_merge: close IDs never seen together become the lowest ID, in the gallery, events and visits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from face_analytics.merge import close_id_pairs, main, plan_merges
from face_common.faces import Box, Face, FaceEvent, FrameRef
from face_sink.schema import open_sqlite_store
from identity_node.descriptor import DEFAULT_DESCRIPTOR_BACKEND, DESCRIPTOR_SIZE
from identity_node.gallery import FaceGallery
from identity_node.gallery_store import GalleryStore

KIND = DEFAULT_DESCRIPTOR_BACKEND


def test_close_pairs_take_the_minimum_distance_between_two_ids() -> None:
    ids = np.array([1, 1, 2, 3])
    vectors = np.array([[0.0, 0], [5, 0], [5.2, 0], [0, 3]])
    assert close_id_pairs(ids, vectors, 0.5) == {(1, 2): pytest.approx(0.2)}
    assert set(close_id_pairs(ids, vectors, 3.5)) == {(1, 2), (1, 3)}  # 1's first view is 3.0 from 3


def test_a_close_pair_seen_in_one_frame_is_not_merged() -> None:
    plan = plan_merges({(1, 2): 0.1, (3, 4): 0.2}, co_occurring={(1, 2)})
    assert plan.survivors == {4: 3}


def test_chains_merge_to_the_lowest_id() -> None:
    plan = plan_merges({(5, 7): 0.1, (2, 7): 0.3, (7, 9): 0.2}, co_occurring=set())
    assert plan.survivors == {5: 2, 7: 2, 9: 2}
    assert [(p.low, p.high) for p in plan.pairs] == [(5, 7), (7, 9), (2, 7)]  # closest first


def test_a_chain_never_joins_two_ids_seen_together() -> None:
    # 1~2 and 2~3 are close, but 1 and 3 shared a frame: 2 goes with the closer one only.
    plan = plan_merges({(1, 2): 0.3, (2, 3): 0.1}, co_occurring={(3, 1)})
    assert plan.survivors == {3: 2}


def _unit(rng: np.random.Generator) -> np.ndarray:
    vector = rng.normal(size=DESCRIPTOR_SIZE)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def product_state(tmp_path: Path) -> dict[str, Path]:
    """Person A enrolled twice (IDs 1 and 3, a later view of 3 close to 1), B once (2), and C
    twice (4 and 5, close, but seen in one frame: two people after all)."""
    paths = {"gallery": tmp_path / "gallery.sqlite", "database": tmp_path / "events.sqlite"}
    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(size=DESCRIPTOR_SIZE) for _ in range(3))
    with FaceGallery(paths["gallery"], KIND, DESCRIPTOR_SIZE) as gallery:
        ids = [gallery.enrol(v) for v in (a, b, a + 0.7 * _unit(rng), c, c + 0.7 * _unit(rng))]
        assert ids == [1, 2, 3, 4, 5]
        gallery.learn(3, a + 0.3 * _unit(rng), distance=1.0)
        gallery.learn(5, c + 0.3 * _unit(rng), distance=1.0)
    store = open_sqlite_store(paths["database"])
    sightings = [  # (camera, second, face IDs in that frame)
        ("cam1", 0, [1, 2]),
        ("cam1", 1, [1]),
        ("cam2", 30, [3]),
        ("cam1", 40, [3, 2]),
        ("cam1", 50, [4, 5]),
        ("cam2", 60, [5]),
    ]
    for camera, second, face_ids in sightings:
        frame = FrameRef(camera, (1_700_000_000 + second) * 10**9)
        faces = [Face(i, Box(2 + 20 * i, 2, 10, 10), 1.0, face_id=f) for i, f in enumerate(face_ids)]
        store.write_events([FaceEvent.from_face(frame, face) for face in faces])
    store.close()
    return paths


def cli(paths: dict[str, Path], *extra: str) -> list[str]:
    return ["--gallery", str(paths["gallery"]), "--database", str(paths["database"]), *extra]


def snapshot(paths: dict[str, Path]) -> tuple:
    store = open_sqlite_store(paths["database"])
    try:
        events, visits = store.read_events(), store.read_visits()
    finally:
        store.close()
    gallery = GalleryStore(paths["gallery"], KIND, DESCRIPTOR_SIZE)
    try:
        stored = gallery.load()
    finally:
        gallery.close()
    return events, visits, stored.last_face_id, stored.face_ids.tolist(), stored.vectors.tobytes()


def test_dry_run_lists_the_merge_and_changes_nothing(product_state, capsys) -> None:
    before = snapshot(product_state)
    assert main(cli(product_state)) == 0
    out = capsys.readouterr().out
    assert "1 <- 3" in out and "pair 1-3: distance" in out and "dry run: 1 IDs" in out
    assert "4 <-" not in out and "pair 4-5" not in out, "4 and 5 were seen in one frame"
    assert snapshot(product_state) == before


def test_apply_merges_gallery_events_and_visits(product_state, capsys) -> None:
    events_before = snapshot(product_state)[0]
    assert {e.face_id for e in events_before} == {1, 2, 3, 4, 5}
    assert main(cli(product_state, "--apply")) == 0
    assert "1 IDs merged: 2 descriptors" in capsys.readouterr().out

    events, visits, last_face_id, face_ids, _ = snapshot(product_state)
    assert {e.face_id for e in events} == {1, 2, 4, 5}
    assert [(e.camera_id, e.stamp_ns) for e in events] == [(e.camera_id, e.stamp_ns) for e in events_before]
    assert sorted(e.stamp_ns for e in events if e.face_id == 1) == sorted(
        e.stamp_ns for e in events_before if e.face_id in (1, 3)
    )
    assert last_face_id == 5, "the counter never goes down"
    assert sorted(set(face_ids)) == [1, 2, 4, 5] and face_ids.count(1) == 3

    store = open_sqlite_store(product_state["database"])
    try:
        assert {v.face_id for v in visits} == {1, 2, 4, 5}
        store.rebuild_visits()
        assert store.read_visits() == visits, "visits equal a rebuild from the merged events"
    finally:
        store.close()

    with FaceGallery(product_state["gallery"], KIND, DESCRIPTOR_SIZE) as gallery:
        assert gallery.face_ids() == {1, 2, 4, 5}
        assert gallery.enrol(np.full(DESCRIPTOR_SIZE, 9.0)) == 6, "a merged ID is never issued again"

    assert main(cli(product_state, "--apply")) == 0  # nothing left to merge
    assert "0 IDs merged" in capsys.readouterr().out


def test_refuses_while_the_identity_node_holds_the_gallery(product_state, capsys) -> None:
    before = snapshot(product_state)
    with FaceGallery(product_state["gallery"], KIND, DESCRIPTOR_SIZE):
        assert main(cli(product_state, "--apply")) == 2
    assert "stop the identity node first; nothing was merged" in capsys.readouterr().err
    assert snapshot(product_state) == before
