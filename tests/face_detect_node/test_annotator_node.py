"""face_annotator as a real process: a frame and its attributed faces in over DDS, the frame
with each face's ID, age and gender drawn on it out."""

from __future__ import annotations

import numpy as np
from face_common.faces import Box, Face, FrameFaces, FrameRef
from face_common.images import array_to_image_msg, image_msg_to_array
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_to_msg, frame_header
from face_detect_node.annotation import annotate
from rclpy.qos import qos_profile_sensor_data
from ros_processes import RosProcesses, exit_counters, stop, wait_until
from sensor_msgs.msg import Image

CAMERA = "cam_annot"


def attributed(stamp_ns: int) -> FrameFaces:
    face = Face(index=0, box=Box(100, 80, 120, 120), score=0.99, face_id=7, age=31.0, gender="female")
    return FrameFaces(FrameRef(CAMERA, stamp_ns), [face])


def test_annotator_draws_the_graphs_conclusions_on_the_matching_frame(ros_graph: RosProcesses) -> None:
    process = ros_graph.start("face_detect_node", "face_annotator", namespace=CAMERA)
    annotated = ros_graph.collect(Image, f"/{CAMERA}/image_annotated", image_msg_to_array)
    images = ros_graph.node.create_publisher(Image, f"/{CAMERA}/image_raw", qos_profile_sensor_data)
    faces = ros_graph.node.create_publisher(FacesMsg, f"/{CAMERA}/faces_attributed", FACES_QOS)
    frame = np.random.default_rng(0).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    assert wait_until(
        lambda: images.get_subscription_count() and faces.get_subscription_count(), timeout_s=30
    )
    # Faces come reliably; frames are best effort, so they are sent again until answered (a
    # repeated frame waits unpaired and expires: the order both ways is unit-tested).
    first, second = attributed(1_000_000_000), attributed(2_000_000_000)
    faces.publish(frame_faces_to_msg(first))
    faces.publish(frame_faces_to_msg(second))

    def frames_answered() -> bool:
        for frame_faces in (first, second):
            images.publish(array_to_image_msg(frame, "bgr8", frame_header(frame_faces.frame)))
        return len(annotated) >= 2

    assert wait_until(frames_answered, timeout_s=30, poll_s=0.5), "no annotated frame came back"
    expected = annotate(frame, first)
    assert (expected != frame).any()
    for image in annotated[:2]:
        np.testing.assert_array_equal(image, expected)
    log = stop(process)
    assert process.returncode == 0 and "max_wait_s=2.0" in log, log
    assert exit_counters(log)["annotated"] == len(annotated) == 2  # one per faces message
