"""face_erase on the files (no identity node answers): one face ID leaves the gallery, the events
and visits, the crops and the annotated frames; the others stay. A wrong path or a gallery held by
a process that does not answer stops it with nothing erased. (With the node running:
tests/identity_node/test_erase_while_running.py.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from face_analytics.erase import main
from face_common.faces import Box, Face, FaceEvent, FrameFaces, FrameRef
from face_detect_node.annotation import AnnotatedFrameWriter
from face_sink.crop_archive import CropArchive
from face_sink.schema import open_sqlite_store
from identity_node.descriptor import DEFAULT_DESCRIPTOR_BACKEND, DESCRIPTOR_SIZE
from identity_node.gallery import FaceGallery

KIND = DEFAULT_DESCRIPTOR_BACKEND  # what face_erase assumes unless told


@pytest.fixture
def product_state(tmp_path: Path) -> dict[str, Path]:
    """Two faces known to the gallery, with events, saved crops and annotated frames for both."""
    paths = {
        "gallery": tmp_path / "gallery.sqlite",
        "database": tmp_path / "events.sqlite",
        "crops": tmp_path / "crops",
        "annotated": tmp_path / "annotated",
    }
    rng = np.random.default_rng(0)
    with FaceGallery(paths["gallery"], KIND, DESCRIPTOR_SIZE) as gallery:
        ids = [gallery.match_or_enrol(rng.normal(size=DESCRIPTOR_SIZE)).face_id for _ in range(2)]
    assert ids == [1, 2]
    store = open_sqlite_store(paths["database"])
    archive = CropArchive(paths["crops"])
    frames = AnnotatedFrameWriter(paths["annotated"])
    crop = np.zeros((20, 20, 3), np.uint8)
    for second, face_id in enumerate([1, 2, 1]):
        frame = FrameRef("cam1", (1_700_000_000 + second) * 10**9)
        face = Face(0, Box(2, 2, 10, 10), 1.0, crop=crop, crop_box=Box(0, 0, 20, 20), face_id=face_id)
        store.write_events([FaceEvent.from_face(frame, face)])
        archive.save(frame, face)
        frames.write(crop, FrameFaces(frame, [face]))
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
        "--annotated-dir",
        str(paths["annotated"]),
        "--service",
        "",  # no running node is looked for: another session's graph may run on this machine
    ]


def unchanged(paths: dict[str, Path]) -> bool:
    """Nothing was erased anywhere."""
    with FaceGallery(paths["gallery"], KIND, DESCRIPTOR_SIZE) as gallery:
        descriptors = gallery.face_ids() == {1, 2}
    store = open_sqlite_store(paths["database"])
    events = len(store.read_events()) == 3 and {v.face_id for v in store.read_visits()} == {1, 2}
    store.close()
    crops = sorted(p.name for p in paths["crops"].iterdir()) == ["face_1", "face_2"]
    return descriptors and events and crops and len(list(paths["annotated"].iterdir())) == 3


def test_erase_removes_one_face_everywhere(product_state, capsys) -> None:
    assert main(cli(product_state, 1)) == 0
    out = capsys.readouterr().out
    assert "face 1 erased: 1 descriptors from " in out
    assert "2 events and their visits" in out and "2 crops" in out and "2 annotated frames" in out
    with FaceGallery(product_state["gallery"], KIND, DESCRIPTOR_SIZE) as gallery:
        assert gallery.face_ids() == {2}
        assert gallery.match_or_enrol(np.ones(DESCRIPTOR_SIZE)).face_id == 3, "erased IDs are never reissued"
    store = open_sqlite_store(product_state["database"])
    assert {event.face_id for event in store.read_events()} == {2}
    assert {visit.face_id for visit in store.read_visits()} == {2}
    store.close()
    assert sorted(p.name for p in product_state["crops"].iterdir()) == ["face_2"]
    assert [p.name for p in product_state["annotated"].iterdir()] == ["cam1_1700000001000000000_f2tn.jpg"]


def test_a_gallery_held_by_a_process_that_does_not_answer_stops_the_erasure(
    product_state, capsys, monkeypatch, ros_domain_id
) -> None:
    monkeypatch.setenv("ROS_DOMAIN_ID", str(ros_domain_id))  # a domain where no node answers
    with FaceGallery(product_state["gallery"], KIND, DESCRIPTOR_SIZE):  # held, as by an old node
        assert main([*cli(product_state, 1)[:-2], "--service-timeout-s", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "is open in another process (no identity node answered /erase_face); nothing was erased" in err
    assert unchanged(product_state)


@pytest.mark.parametrize(
    ("option", "message"), [("--gallery", "no gallery at "), ("--database", "no event database at ")]
)
def test_a_wrong_path_is_an_error_and_nothing_is_erased(
    product_state, capsys, tmp_path, option, message
) -> None:
    args = cli(product_state, 1)
    args[args.index(option) + 1] = str(tmp_path / "missing.sqlite")
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert unchanged(product_state)
