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
from face_common.images import ImageConversionError, array_to_image_msg, image_msg_to_array
from face_common.node_support import read_only, spin_node
from face_common.ros_msgs import FACES_QOS, NS_PER_S, FacesMsg, frame_faces_from_msg, frame_ref
from rcl_interfaces.msg import FloatingPointRange
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from face_detect_node.annotation import AnnotatedFrameWriter, StampPairer, annotate

SUMMARY_PERIOD_S = 10.0


class FaceAnnotatorNode(Node):
    """Draws each frame's faces once the graph has concluded who they are."""

    def __init__(self) -> None:
        super().__init__("face_annotator")
        max_wait_s = self.declare_parameter(
            "max_wait_s",
            2.0,
            read_only(
                "How long (capture time) a frame waits for its faces before it is dropped; frames "
                "are held raw, so this bounds memory (2 s of 720p at 12 fps: ~66 MB)",
                floating_point_range=[FloatingPointRange(from_value=0.1, to_value=30.0, step=0.0)],
            ),
        ).value
        annotated_dir = self.declare_parameter(
            "annotated_dir",
            "",
            read_only("Also write each annotated frame as a JPEG into this folder ('' = none)"),
        ).value
        self._writer = AnnotatedFrameWriter(Path(annotated_dir)) if annotated_dir else None
        self._pairer: StampPairer[Image, FrameFaces] = StampPairer(round(max_wait_s * NS_PER_S))
        self._publisher = self.create_publisher(Image, "image_annotated", qos_profile_sensor_data)
        self.create_subscription(Image, "image_raw", self._on_image, qos_profile_sensor_data)
        self.create_subscription(FacesMsg, "faces_attributed", self._on_faces, FACES_QOS)
        self.create_timer(SUMMARY_PERIOD_S, self._log_summary)
        self.annotated = 0
        self.bad_messages = 0
        self.write_failures = 0
        self.get_logger().info(f"max_wait_s={max_wait_s} annotated_dir={annotated_dir!r}")

    def _on_image(self, msg: Image) -> None:
        stamp = frame_ref(msg.header).stamp_ns
        faces = self._pairer.add_frame(stamp, msg)
        if faces is not None:
            self._draw(msg, faces)

    def _on_faces(self, msg: FacesMsg) -> None:
        try:
            faces = frame_faces_from_msg(msg)
        except ImageConversionError as err:
            self.bad_messages += 1
            self.get_logger().warning(f"dropping bad faces message (bad_messages={self.bad_messages}): {err}")
            return
        image = self._pairer.add_faces(faces.frame.stamp_ns, faces)
        if image is not None:
            self._draw(image, faces)

    def _draw(self, image_msg: Image, faces: FrameFaces) -> None:
        try:
            image = image_msg_to_array(image_msg, "bgr8")
        except ImageConversionError as err:
            self.bad_messages += 1
            self.get_logger().warning(f"dropping bad frame (bad_messages={self.bad_messages}): {err}")
            return
        annotated = annotate(image, faces)
        self._publisher.publish(array_to_image_msg(annotated, "bgr8", image_msg.header))
        self.annotated += 1
        if self._writer is None:
            return
        try:
            self._writer.write(annotated, faces.frame)
        except OSError as err:
            self.write_failures += 1
            self.get_logger().error(
                f"annotated frame not written (write_failures={self.write_failures}): {err}",
                throttle_duration_sec=5.0,
            )

    def _log_summary(self) -> None:
        self.get_logger().info(
            f"annotated={self.annotated} unpaired={self._pairer.unpaired} bad_messages={self.bad_messages} "
            f"write_failures={self.write_failures}"
        )


def main(args: list[str] | None = None) -> None:
    spin_node(FaceAnnotatorNode, args)


if __name__ == "__main__":
    main()
