"""Crop archive: one folder per face ID, replay-safe names, erasure, retention (fake clock)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from face_common.faces import UNKNOWN_FACE_ID, Box, Face, FrameRef
from face_sink.crop_archive import CropArchive


def face_with_crop(index: int, face_id: int, shade: int) -> Face:
    crop = np.full((24, 20, 3), shade, dtype=np.uint8)
    return Face(
        index=index,
        box=Box(0, 0, 10, 10),
        score=1.0,
        crop=crop,
        crop_box=Box(-5, -5, 20, 24),
        face_id=face_id,
    )


def test_crops_are_filed_per_face_id_and_replays_overwrite(tmp_path):
    archive = CropArchive(tmp_path)
    first, later = FrameRef("door/cam", 1000), FrameRef("door/cam", 2000)
    paths = [archive.save(first, face_with_crop(0, 7, 50)), archive.save(later, face_with_crop(1, 7, 90))]
    archive.save(later, face_with_crop(1, 7, 90))  # replayed frame
    assert all(p is not None and p.parent == tmp_path / "face_7" for p in paths)
    names = sorted(p.name for p in (tmp_path / "face_7").iterdir())
    assert names == ["door_cam_1000_0.jpg", "door_cam_2000_1.jpg"]
    image = cv2.imread(str(paths[1]))
    assert image.shape == (24, 20, 3) and abs(int(image.mean()) - 90) <= 2


def test_faces_without_id_or_crop_are_not_saved(tmp_path):
    archive = CropArchive(tmp_path)
    frame = FrameRef("cam0", 1)
    assert archive.save(frame, face_with_crop(0, UNKNOWN_FACE_ID, 10)) is None
    assert archive.save(frame, Face(index=0, box=Box(0, 0, 1, 1), score=1.0, face_id=3)) is None
    assert list(tmp_path.iterdir()) == []


def test_erase_face_removes_its_folder_only(tmp_path):
    archive = CropArchive(tmp_path)
    for stamp in range(3):
        archive.save(FrameRef("cam0", stamp), face_with_crop(0, 1, 10))
    archive.save(FrameRef("cam0", 0), face_with_crop(1, 2, 10))
    assert archive.erase_face(1) == 3
    assert not (tmp_path / "face_1").exists() and (tmp_path / "face_2").is_dir()
    assert archive.erase_face(1) == 0


class FakeClock:
    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


def test_crops_older_than_the_maximum_age_are_purged_when_the_archive_opens_and_hourly(tmp_path):
    day_ns = 86_400 * 10**9
    clock = FakeClock(now_ns=100 * day_ns)
    archive = CropArchive(tmp_path, max_age_s=10 * 86_400, clock_ns=clock)
    old, recent = FrameRef("cam_2", 85 * day_ns), FrameRef("cam_2", 95 * day_ns)  # '_' in the camera id
    archive.save(old, face_with_crop(0, 1, 10))
    archive.save(recent, face_with_crop(0, 2, 10))
    archive.save(recent, face_with_crop(1, 1, 10))
    (tmp_path / "face_1" / "notes.txt").write_text("not a crop of this archive")
    assert len(list(tmp_path.rglob("*.jpg"))) == 3, "the next check is an hour after opening"
    clock.now_ns += 3_600 * 10**9
    archive.save(recent, face_with_crop(2, 3, 10))  # due: the old crop goes
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jpg")) == [
        f"face_1/cam_2_{95 * day_ns}_1.jpg",
        f"face_2/cam_2_{95 * day_ns}_0.jpg",
        f"face_3/cam_2_{95 * day_ns}_2.jpg",
    ]
    assert (tmp_path / "face_1" / "notes.txt").exists()
    clock.now_ns += 10 * day_ns
    assert CropArchive(tmp_path, max_age_s=10 * 86_400, clock_ns=clock).purge_expired() == 0  # done on open
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face_1"]  # emptied folders went
    assert CropArchive(tmp_path, max_age_s=0, clock_ns=clock).purge_expired() == 0


def test_a_negative_maximum_age_is_refused(tmp_path):
    with pytest.raises(ValueError, match="maximum crop age"):
        CropArchive(tmp_path, max_age_s=-1)
