"""face_erase: one face ID leaves the gallery, the events and the crops; the others stay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from face_analytics.erase import main
from face_common.faces import Box, Face, FaceEvent, FrameRef
from face_sink.crop_archive import CropArchive
from face_sink.schema import open_sqlite_store
from identity_node.descriptor import DEFAULT_DESCRIPTOR_BACKEND, DESCRIPTOR_SIZE
from identity_node.gallery import FaceGallery

KIND = DEFAULT_DESCRIPTOR_BACKEND  # what face_erase assumes unless told


@pytest.fixture
def product_state(tmp_path: Path) -> dict[str, Path]:
    """Two faces known to the gallery, with events and saved crops for both."""
    paths = {
        "gallery": tmp_path / "gallery.sqlite",
        "database": tmp_path / "events.sqlite",
        "crops": tmp_path / "crops",
    }
    rng = np.random.default_rng(0)
    with FaceGallery(paths["gallery"], KIND, DESCRIPTOR_SIZE) as gallery:
        ids = [gallery.match_or_enrol(rng.normal(size=DESCRIPTOR_SIZE)).face_id for _ in range(2)]
    assert ids == [1, 2]
    store = open_sqlite_store(paths["database"])
    archive = CropArchive(paths["crops"])
    crop = np.zeros((20, 20, 3), np.uint8)
    for second, face_id in enumerate([1, 2, 1]):
        frame = FrameRef("cam1", (1_700_000_000 + second) * 10**9)
        face = Face(0, Box(2, 2, 10, 10), 1.0, crop=crop, crop_box=Box(0, 0, 20, 20), face_id=face_id)
        store.write_events([FaceEvent.from_face(frame, face)])
        archive.save(frame, face)
    store.close()
    return paths


def cli(paths: dict[str, Path], face_id: int) -> list[str]:
    return [
        str(face_id),
        "--gallery",
        str(paths["gallery"]),
        "--database",
        str(paths["database"]),
        "--crops-dir",
        str(paths["crops"]),
    ]


def test_erase_removes_one_face_everywhere(product_state, capsys) -> None:
    assert main(cli(product_state, 1)) == 0
    assert "face 1 erased: 1 descriptors" in capsys.readouterr().out
    with FaceGallery(product_state["gallery"], KIND, DESCRIPTOR_SIZE) as gallery:
        assert gallery.face_ids() == {2}
        assert gallery.match_or_enrol(np.ones(DESCRIPTOR_SIZE)).face_id == 3, "erased IDs are never reissued"
    store = open_sqlite_store(product_state["database"])
    assert {event.face_id for event in store.read_events()} == {2}
    store.close()
    assert sorted(p.name for p in product_state["crops"].iterdir()) == ["face_2"]


def test_a_running_identity_node_blocks_the_erasure_and_nothing_is_erased(product_state, capsys) -> None:
    with FaceGallery(product_state["gallery"], KIND, DESCRIPTOR_SIZE):  # as the node holds it
        assert main(cli(product_state, 1)) == 2
    assert "stop the identity node first; nothing was erased" in capsys.readouterr().err
    store = open_sqlite_store(product_state["database"])
    assert len(store.read_events()) == 3
    store.close()
