"""ROS 2 node: camera frames in, faces (boxes, scores, crops) and an annotated image out.

Subscribes ``image_raw`` (sensor_msgs/Image, sensor-data QoS); publishes ``faces`` (one message
per frame, with the frame's header, also for frames without faces so downstream sees every
frame) and, unless ``publish_annotated`` is false, ``image_annotated`` (bgr8).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from face_common.faces import FrameRef
from face_common.images import ImageConversionError, array_to_image_msg, image_msg_to_array
from face_common.node_support import read_only, spin_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_to_msg, frame_ref
from rcl_interfaces.msg import FloatingPointRange, IntegerRange
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from face_detect_node.annotation import AnnotatedFrameWriter, annotate
from face_detect_node.detection import DEFAULT_CROP_MARGIN, detect_faces
from face_detect_node.detectors import DEFAULT_MIN_FACE_SIZE, DETECTORS, make_detector
from face_detect_node.tracking import DEFAULT_MAX_MISSED, DEFAULT_MIN_IOU, IouTracker

SUMMARY_PERIOD_S = 10.0


class FaceDetectNode(Node):
    """Runs one face detector on every frame of one camera."""

    def __init__(self) -> None:
        super().__init__("face_detect_node")
        detector_name = self.declare_parameter(
            "detector",
            "haar",
            read_only(f"Face detector backend, one of {sorted(DETECTORS)}"),
        ).value
        min_face_size = self.declare_parameter(
            "min_face_size",
            DEFAULT_MIN_FACE_SIZE,
            read_only(
                "Smallest face side to report, in full-resolution pixels",
                integer_range=[IntegerRange(from_value=1, to_value=4096, step=1)],
            ),
        ).value
        detect_scale = self.declare_parameter(
            "detect_scale",
            1.0,
            read_only(
                "Detect on the frame resized by this factor (faster); boxes stay full-resolution",
                floating_point_range=[FloatingPointRange(from_value=0.05, to_value=1.0, step=0.0)],
            ),
        ).value
        self._crop_margin = self.declare_parameter(
            "crop_margin",
            DEFAULT_CROP_MARGIN,
            read_only(
                "Crop margin per side as a fraction of the face box (zero-padded at borders)",
                floating_point_range=[FloatingPointRange(from_value=0.0, to_value=2.0, step=0.0)],
            ),
        ).value
        self._publish_annotated = self.declare_parameter(
            "publish_annotated",
            True,
            read_only("Also publish image_annotated with the face boxes drawn"),
        ).value

        self._log_frames = self.declare_parameter(
            "log_frames",
            False,
            read_only("Log every frame's face count at info level"),
        ).value
        annotated_dir = self.declare_parameter(
            "annotated_dir",
            "",
            read_only(
                "Also write each annotated frame as a JPEG into this folder ('' = none); "
                "the frames show faces, so this is off unless asked for"
            ),
        ).value
        self._annotated_writer = AnnotatedFrameWriter(Path(annotated_dir)) if annotated_dir else None

        track_min_iou = self.declare_parameter(
            "track_min_iou",
            DEFAULT_MIN_IOU,
            read_only(
                "Box overlap (IoU) that continues a face track from the previous frame",
                floating_point_range=[FloatingPointRange(from_value=0.01, to_value=1.0, step=0.0)],
            ),
        ).value
        track_max_missed = self.declare_parameter(
            "track_max_missed",
            DEFAULT_MAX_MISSED,
            read_only(
                "Frames a track may go unseen before it ends",
                integer_range=[IntegerRange(from_value=0, to_value=1000, step=1)],
            ),
        ).value
        self._tracker = IouTracker(track_min_iou, track_max_missed)

        self._detector = make_detector(detector_name, min_face_size=min_face_size, detect_scale=detect_scale)
        self._faces_pub = self.create_publisher(FacesMsg, "faces", FACES_QOS)
        self._annotated_pub = self.create_publisher(Image, "image_annotated", qos_profile_sensor_data)
        self.create_subscription(Image, "image_raw", self._on_image, qos_profile_sensor_data)
        self.create_timer(SUMMARY_PERIOD_S, self._log_summary)
        self.frames = 0
        self.faces = 0
        self.bad_frames = 0
        self.annotated_write_failures = 0
        self.get_logger().info(
            f"detector={detector_name} min_face_size={min_face_size} detect_scale={detect_scale} "
            f"crop_margin={self._crop_margin}"
        )

    def _on_image(self, msg: Image) -> None:
        try:
            image = image_msg_to_array(msg, "bgr8")
        except ImageConversionError as err:
            self.bad_frames += 1
            self.get_logger().warning(f"dropping bad frame (bad_frames={self.bad_frames}): {err}")
            return
        frame_faces = detect_faces(image, self._detector, frame_ref(msg.header), self._crop_margin)
        self._tracker.track(frame_faces)
        self.frames += 1
        self.faces += len(frame_faces.faces)
        count = f"{frame_faces.frame.camera_id} frame {self.frames}: {len(frame_faces.faces)} face(s)"
        (self.get_logger().info if self._log_frames else self.get_logger().debug)(count)
        self._faces_pub.publish(frame_faces_to_msg(frame_faces))
        if self._publish_annotated or self._annotated_writer is not None:
            annotated = annotate(image, frame_faces)
            if self._publish_annotated:
                self._annotated_pub.publish(array_to_image_msg(annotated, "bgr8", msg.header))
            if self._annotated_writer is not None:
                self._write_annotated(annotated, frame_faces.frame)

    def _write_annotated(self, annotated: np.ndarray, frame: FrameRef) -> None:
        try:
            self._annotated_writer.write(annotated, frame)
        except OSError as err:
            self.annotated_write_failures += 1
            self.get_logger().error(
                f"annotated frame not written (failures={self.annotated_write_failures}): {err}",
                throttle_duration_sec=5.0,
            )

    def _log_summary(self) -> None:
        self.get_logger().info(f"frames={self.frames} faces={self.faces} bad_frames={self.bad_frames}")


def main(args: list[str] | None = None) -> None:
    spin_node(FaceDetectNode, args)


if __name__ == "__main__":
    main()
