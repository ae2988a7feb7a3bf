"""ROS 2 node: camera frames + the graph's conclusions in, annotated frames out.

Subscribes ``image_raw`` (sensor-data QoS) and ``faces_attributed`` (the faces with face ID, age
and gender), pairs them by capture stamp and publishes ``image_annotated`` (bgr8): each face's
box with its anonymous ID, age and gender, what rqt_image_view or Foxglove then show. Remap
``faces_attributed`` to ``faces`` to see the detector's boxes alone (``detect.launch.yaml``).
Unless ``annotated_dir`` is set, no frame is written to disk (frames show customers' faces).
Written frames older than ``annotated_max_age_days`` are deleted at start and hourly, and a face
ID announced on ``/erased_faces`` (the identity node's erasure) takes its frames with it; frames
still in flight that show an erased ID are not written.
"""

from __future__ import annotations

from pathlib import Path

from face_common.erasure import ERASED_FACES_QOS, ERASED_FACES_TOPIC
from face_common.faces import FrameFaces
from face_common.graph_node import GraphNode, run_node
from face_common.images import array_to_image_msg, image_msg_to_array
from face_common.ros_msgs import FACES_QOS, NS_PER_S, FacesMsg, frame_faces_from_msg, frame_ref
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Int64

from face_detect_node.annotation import AnnotatedFrameWriter, AnnotatorSettings, StampPairer, annotate

SECONDS_PER_DAY = 86_400.0
RETENTION_CHECK_PERIOD_S = 3_600.0


class FaceAnnotatorNode(GraphNode):
    """Draws each frame's faces once the graph has concluded who they are."""

    settings_class = AnnotatorSettings
    counters = ("annotated", "unpaired", "erased_frames", "expired_frames")
    problems = ("bad_messages", "write_failures")
    settings: AnnotatorSettings

    def __init__(self) -> None:
        super().__init__("face_annotator")
        folder = self.settings.annotated_dir
        max_age_s = self.settings.annotated_max_age_days * SECONDS_PER_DAY
        self._writer = AnnotatedFrameWriter(Path(folder), max_age_s=max_age_s) if folder else None
        self._erased_ids: set[int] = set()
        if self._writer is not None:
            self._purge_expired()
            self.create_timer(RETENTION_CHECK_PERIOD_S, self._purge_expired)
            self.create_subscription(Int64, ERASED_FACES_TOPIC, self._on_erased, ERASED_FACES_QOS)
        self._pairer: StampPairer[Image, FrameFaces] = StampPairer(round(self.settings.max_wait_s * NS_PER_S))
        self._publisher = self.create_publisher(Image, "image_annotated", qos_profile_sensor_data)
        self.create_subscription(Image, "image_raw", self._on_image, qos_profile_sensor_data)
        self.create_subscription(FacesMsg, "faces_attributed", self._on_faces, FACES_QOS)
        self.get_logger().info(
            f"max_wait_s={self.settings.max_wait_s} annotated_dir={folder!r} "
            f"annotated_max_age_days={self.settings.annotated_max_age_days:g}"
        )

    def _on_image(self, msg: Image) -> None:
        frame = self.decoded(lambda m: frame_ref(m.header), msg)
        if frame is None:
            return
        faces = self._pairer.add_frame(frame.stamp_ns, msg)
        if faces is not None:
            self._draw(msg, faces)

    def _on_faces(self, msg: FacesMsg) -> None:
        faces = self.decoded(frame_faces_from_msg, msg)
        if faces is None:
            return
        image = self._pairer.add_faces(faces.frame.stamp_ns, faces)
        if image is not None:
            self._draw(image, faces)

    def _draw(self, image_msg: Image, faces: FrameFaces) -> None:
        self.health.set("unpaired", self._pairer.unpaired)
        image = self.decoded(lambda m: image_msg_to_array(m, "bgr8"), image_msg)
        if image is None:
            return
        annotated = annotate(image, faces)
        self._publisher.publish(array_to_image_msg(annotated, "bgr8", image_msg.header))
        self.health.count("annotated")
        if self._writer is None or any(face.face_id in self._erased_ids for face in faces.faces):
            return
        try:
            self._writer.write(annotated, faces)
        except OSError as err:
            self.report_problem("write_failures", f"annotated frame not written: {err}", error=True)

    def _on_erased(self, msg: Int64) -> None:
        self._erased_ids.add(msg.data)
        try:
            removed = self._writer.erase_face(msg.data)
        except OSError as err:
            self.report_problem(
                "write_failures", f"frames of erased face {msg.data} not deleted: {err}", error=True
            )
            return
        self.health.count("erased_frames", removed)
        self.get_logger().info(f"face {msg.data} erased: deleted {removed} annotated frames")

    def _purge_expired(self) -> None:
        try:
            removed = self._writer.purge_expired()
        except OSError as err:
            self.report_problem(
                "write_failures", f"retention: annotated frames not deleted: {err}", error=True
            )
            return
        self.health.count("expired_frames", removed)
        if removed:
            self.get_logger().info(f"retention: deleted {removed} annotated frames")


def main(args: list[str] | None = None) -> int:
    return run_node(FaceAnnotatorNode, args)
