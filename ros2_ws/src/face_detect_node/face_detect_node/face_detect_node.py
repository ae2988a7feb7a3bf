"""ROS 2 node: camera frames in, tracked faces (boxes, scores, track ids, crops) out.

Subscribes ``image_raw`` (sensor_msgs/Image, sensor-data QoS); publishes ``faces`` (one message
per frame, with the frame's header, also for frames without faces so downstream sees every
frame). The detector runs on every ``detect_every``-th frame; on the others the tracker's
predicted boxes are published with score NaN. The annotated image is drawn later in the graph,
by ``face_annotator``, once identity and age/gender are known.
"""

from __future__ import annotations

from face_common.images import ImageConversionError, image_msg_to_array
from face_common.node_support import read_only, spin_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_to_msg, frame_ref
from rcl_interfaces.msg import FloatingPointRange, IntegerRange
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from face_detect_node.detection import DetectionConfig, FaceFinder
from face_detect_node.detectors import DETECTORS

SUMMARY_PERIOD_S = 10.0


class FaceDetectNode(Node):
    """Finds the faces of every frame of one camera: detection every few frames, tracks between."""

    def __init__(self) -> None:
        super().__init__("face_detect_node")
        defaults = DetectionConfig()
        config = DetectionConfig(
            detector=self.declare_parameter(
                "detector",
                defaults.detector,
                read_only(f"Face detector backend, one of {sorted(DETECTORS)}"),
            ).value,
            score_threshold=self.declare_parameter(
                "score_threshold",
                defaults.score_threshold,
                read_only(
                    "RetinaFace: least face probability reported",
                    floating_point_range=[FloatingPointRange(from_value=0.0, to_value=1.0, step=0.0)],
                ),
            ).value,
            input_size=self.declare_parameter(
                "input_size",
                defaults.input_size,
                read_only(
                    "RetinaFace: the frame's longest side is resized to this before the network "
                    "(cost grows with its square; smaller loses small faces)",
                    integer_range=[IntegerRange(from_value=32, to_value=4096, step=1)],
                ),
            ).value,
            min_face_size=self.declare_parameter(
                "min_face_size",
                defaults.min_face_size,
                read_only(
                    "Smallest face side to report, in full-resolution pixels",
                    integer_range=[IntegerRange(from_value=1, to_value=4096, step=1)],
                ),
            ).value,
            detect_scale=self.declare_parameter(
                "detect_scale",
                defaults.detect_scale,
                read_only(
                    "Detect on the frame resized by this factor (faster); boxes stay full-resolution",
                    floating_point_range=[FloatingPointRange(from_value=0.05, to_value=1.0, step=0.0)],
                ),
            ).value,
            detect_every=self.declare_parameter(
                "detect_every",
                defaults.detect_every,
                read_only(
                    "Run the detector on every N-th frame; the tracker carries the boxes in between",
                    integer_range=[IntegerRange(from_value=1, to_value=100, step=1)],
                ),
            ).value,
            frame_rate=self.declare_parameter(
                "frame_rate",
                defaults.frame_rate,
                read_only(
                    "The camera's frames per second (the tracker's clock)",
                    floating_point_range=[FloatingPointRange(from_value=0.1, to_value=240.0, step=0.0)],
                ),
            ).value,
            tracking=self.declare_parameter(
                "tracking",
                defaults.tracking,
                read_only(
                    "Track faces (identity and age/gender then look at each track's best views); "
                    "false: detect every frame, every face untracked (the seed's per-frame pipeline)"
                ),
            ).value,
            crop_margin=self.declare_parameter(
                "crop_margin",
                defaults.crop_margin,
                read_only(
                    "Crop margin per side as a fraction of the face box (zero-padded at borders)",
                    floating_point_range=[FloatingPointRange(from_value=0.0, to_value=2.0, step=0.0)],
                ),
            ).value,
        )
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
