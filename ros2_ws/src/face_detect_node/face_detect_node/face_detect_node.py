"""ROS 2 node: camera frames in, tracked faces (boxes, scores, track ids, crops) out.

Subscribes ``image_raw`` (sensor_msgs/Image, sensor-data QoS); publishes ``faces`` (one message
per frame, with the frame's header, also for frames without faces so downstream sees every
frame). The detector runs on every ``detect_every``-th frame; on the others the tracker's
predicted boxes are published with score NaN. The annotated image is drawn later in the graph,
by ``face_annotator``, once identity and age/gender are known.
"""

from __future__ import annotations

from face_common.images import ImageConversionError, image_msg_to_array
from face_common.node_support import declare_settings, read_only, spin_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_to_msg, frame_ref
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from face_detect_node.detection import DetectionConfig, FaceFinder

SUMMARY_PERIOD_S = 10.0


class FaceDetectNode(Node):
    """Finds the faces of every frame of one camera: detection every few frames, tracks between."""

    def __init__(self) -> None:
        super().__init__("face_detect_node")
        config = declare_settings(self, DetectionConfig)
        self._log_frames = self.declare_parameter(
            "log_frames",
            False,
            read_only("Log every frame's face count at info level"),
        ).value
        self._finder = FaceFinder(config)
        self._faces_pub = self.create_publisher(FacesMsg, "faces", FACES_QOS)
        self.create_subscription(Image, "image_raw", self._on_image, qos_profile_sensor_data)
        self.create_timer(SUMMARY_PERIOD_S, self._log_summary)
        self.frames = 0
        self.faces = 0
        self.bad_frames = 0
        self.get_logger().info(", ".join(f"{name}={value}" for name, value in vars(config).items()))

    def _on_image(self, msg: Image) -> None:
        try:
            image = image_msg_to_array(msg, "bgr8")
        except ImageConversionError as err:
            self.bad_frames += 1
            self.get_logger().warning(f"dropping bad frame (bad_frames={self.bad_frames}): {err}")
            return
        frame_faces = self._finder.find(image, frame_ref(msg.header))
        self.frames += 1
        self.faces += len(frame_faces.faces)
        count = f"{frame_faces.frame.camera_id} frame {self.frames}: {len(frame_faces.faces)} face(s)"
        (self.get_logger().info if self._log_frames else self.get_logger().debug)(count)
        self._faces_pub.publish(frame_faces_to_msg(frame_faces))

    def _log_summary(self) -> None:
        self.get_logger().info(
            f"frames={self.frames} detections={self._finder.detections} faces={self.faces} "
            f"bad_frames={self.bad_frames}"
        )


def main(args: list[str] | None = None) -> None:
    spin_node(FaceDetectNode, args)


if __name__ == "__main__":
    main()
