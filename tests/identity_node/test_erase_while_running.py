"""Erasure while the graph runs: ``face_erase`` calls the running identity node's erase service,
and afterwards nothing of that face ID is left in the gallery, the events and visits, the crops or
the annotated frames, while the node goes on recognising the other IDs and never issues the
erased ID again. The ID is announced on ``/erased_faces``, where the annotator deletes its frames.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from face_common.erasure import ERASED_FACES_QOS, ERASED_FACES_TOPIC
from face_common.faces import FaceEvent, FrameFaces
from face_common.images import array_to_image_msg
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_to_msg, frame_header
from face_sink.crop_archive import CropArchive
from face_sink.schema import open_sqlite_store
from graph_launcher.command_line import resolve_executable
from identity_node.descriptor import DEFAULT_DESCRIPTOR_BACKEND, DESCRIPTOR_BACKENDS, DESCRIPTOR_SIZE
from identity_node.gallery import FaceGallery
from rclpy.qos import qos_profile_sensor_data
from ros_processes import RosProcesses, exit_counters, stop, wait_until
from sensor_msgs.msg import Image
from std_msgs.msg import Int64
from test_identity_node import CAMERA, Probe, frame_message


def annotate_in_the_graph(ros_graph: RosProcesses, frames: list[FrameFaces], folder: Path) -> None:
    """Have the running annotator save these frames: their faces reliably, an image per frame
    sent again until every frame is on disk (images are best effort)."""
    faces = ros_graph.node.create_publisher(FacesMsg, f"/{CAMERA}/faces_attributed", FACES_QOS)
    images = ros_graph.node.create_publisher(Image, f"/{CAMERA}/image_raw", qos_profile_sensor_data)
    for frame in frames:
        faces.publish(frame_faces_to_msg(frame))
    blank = np.zeros((480, 640, 3), np.uint8)

    def all_saved() -> bool:
        for frame in frames:
            images.publish(array_to_image_msg(blank, "bgr8", frame_header(frame.frame)))
        return len(list(folder.glob("*.jpg"))) == len(frames)

    assert wait_until(all_saved, timeout_s=30, poll_s=0.5), "the annotator saved no frames"


def face_erase(ros_graph: RosProcesses, face_id: int, paths: dict[str, Path]) -> subprocess.CompletedProcess:
    command = [resolve_executable("face_analytics", "face_erase"), str(face_id)]
    for option in ("gallery", "database", "crops-dir", "annotated-dir"):
        command += [f"--{option}", str(paths[option])]
    return subprocess.run(command, env=ros_graph.env, capture_output=True, text=True, timeout=60)


def test_erasure_while_the_identity_node_runs(
    ros_graph: RosProcesses, face_data: Path, identity_labels, tmp_path: Path
) -> None:
    by_person: dict[str, list[Path]] = {}
    for row in identity_labels:
        by_person.setdefault(row["person"], []).append(face_data / "identity" / row["path"])
    person_a = next(p for p, paths in by_person.items() if len(paths) >= 2)
    person_b = next(p for p in by_person if p != person_a)
    a1, a2, b1 = by_person[person_a][0], by_person[person_a][1], by_person[person_b][0]
    paths = {
        "gallery": tmp_path / "gallery.sqlite",
        "database": tmp_path / "events.sqlite",
        "crops-dir": tmp_path / "crops",
        "annotated-dir": tmp_path / "annotated",
    }
    announced = ros_graph.collect(Int64, ERASED_FACES_TOPIC, lambda m: m.data, ERASED_FACES_QOS)
    probe = Probe(ros_graph)
    identity = ros_graph.start(
        "identity_node", "identity_node", namespace=CAMERA, gallery_path=paths["gallery"]
    )
    annotator = ros_graph.start(
        "face_detect_node", "face_annotator", namespace=CAMERA, annotated_dir=paths["annotated-dir"]
    )
    seen = [probe.identify(frame_message(a1, 1), identity), probe.identify(frame_message(b1, 2), identity)]
    id_a, id_b = (frame.faces[0].face_id for frame in seen)
    assert id_a != id_b and min(id_a, id_b) > 0

    # What the rest of the graph keeps of both: events and visits, crops, annotated frames.
    store = open_sqlite_store(paths["database"])
    archive = CropArchive(paths["crops-dir"])
    for frame in seen:
        store.write_events(FaceEvent.from_face(frame.frame, face) for face in frame.faces)
        for face in frame.faces:
            archive.save(frame.frame, face)
    store.close()
    annotate_in_the_graph(ros_graph, seen, paths["annotated-dir"])

    erased = face_erase(ros_graph, id_a, paths)
    assert erased.returncode == 0, erased.stderr
    assert "by the running identity node" in erased.stdout and "1 events" in erased.stdout, erased.stdout
    refused = face_erase(ros_graph, 999, paths)
    assert refused.returncode == 2 and "was never issued" in refused.stderr, refused.stderr
    assert wait_until(lambda: list(announced) == [id_a], timeout_s=10), announced

    # The node keeps running: B is still recognised, A comes back as somebody new.
    again_b = probe.identify(frame_message(b1, 3), identity)
    again_a = probe.identify(frame_message(a2, 4), identity)
    assert (again_b.faces[0].face_id, again_b.faces[0].new_face) == (id_b, False)
    new_a = again_a.faces[0].face_id
    assert again_a.faces[0].new_face and new_a > max(id_a, id_b), "an erased ID is never issued again"

    store = open_sqlite_store(paths["database"])
    assert {event.face_id for event in store.read_events()} == {id_b}
    assert {visit.face_id for visit in store.read_visits()} == {id_b}
    store.close()
    assert [p.name for p in paths["crops-dir"].iterdir()] == [f"face_{id_b}"]
    assert [p.name for p in paths["annotated-dir"].iterdir()] == [f"{CAMERA}_2000000000_f{id_b}tn.jpg"]

    annotator_log = stop(annotator)
    assert f"face {id_a} erased: deleted " in annotator_log, annotator_log
    identity_log = stop(identity)
    assert identity.returncode == 0, identity_log
    assert exit_counters(identity_log)["erased"] == 1
    kind = DESCRIPTOR_BACKENDS[DEFAULT_DESCRIPTOR_BACKEND].name
    with FaceGallery(paths["gallery"], kind, DESCRIPTOR_SIZE) as gallery:
        assert gallery.face_ids() == {id_b, new_a} and gallery.descriptor_count(id_a) == 0
