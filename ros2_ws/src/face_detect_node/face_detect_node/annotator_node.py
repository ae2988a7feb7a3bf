"""ROS 2 node: camera frames + the graph's conclusions in, annotated frames out.

Subscribes ``image_raw`` (sensor-data QoS) and ``faces_attributed`` (the faces with face ID, age
and gender), pairs them by capture stamp and publishes ``image_annotated`` (bgr8): each face's
box with its anonymous ID, age and gender, what rqt_image_view or Foxglove then show. Remap
``faces_attributed`` to ``faces`` to see the detector's boxes alone (``detect.launch.yaml``).
Unless ``annotated_dir`` is set, no frame is written to disk (frames show customers' faces).
"""

from __future__ import annotations

from pathlib import Path

from face_common.faces import FrameFaces
from face_common.graph_node import GraphNode, run_node
from face_common.images import array_to_image_msg, image_msg_to_array
from face_common.ros_msgs import FACES_QOS, NS_PER_S, FacesMsg, frame_faces_from_msg, frame_ref
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from face_detect_node.annotation import AnnotatedFrameWriter, AnnotatorSettings, StampPairer, annotate


class FaceAnnotatorNode(GraphNode):
    """Draws each frame's faces once the graph has concluded who they are."""

    settings_class = AnnotatorSettings
    counters = ("annotated", "unpaired")
    problems = ("bad_messages", "write_failures")
    settings: AnnotatorSettings

    def __init__(self) -> None:
        super().__init__("face_annotator")
        folder = self.settings.annotated_dir
        self._writer = AnnotatedFrameWriter(Path(folder)) if folder else None
        self._pairer: StampPairer[Image, FrameFaces] = StampPairer(round(self.settings.max_wait_s * NS_PER_S))
        self._publisher = self.create_publisher(Image, "image_annotated", qos_profile_sensor_data)
        self.create_subscription(Image, "image_raw", self._on_image, qos_profile_sensor_data)
        self.create_subscription(FacesMsg, "faces_attributed", self._on_faces, FACES_QOS)
        self.get_logger().info(f"max_wait_s={self.settings.max_wait_s} annotated_dir={folder!r}")

    def _on_image(self, msg: Image) -> None:
        faces = self._pairer.add_frame(frame_ref(msg.header).stamp_ns, msg)
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
        if self._writer is None:
            return
        try:
            self._writer.write(annotated, faces.frame)
        except OSError as err:
            self.report_problem("write_failures", f"annotated frame not written: {err}", error=True)


def main(args: list[str] | None = None) -> int:
    return run_node(FaceAnnotatorNode, args)
