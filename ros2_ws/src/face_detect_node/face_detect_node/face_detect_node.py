"""ROS 2 node: camera frames in, tracked faces (boxes, scores, track ids, crops) out.

Subscribes ``image_raw`` (sensor_msgs/Image, with the QoS its publisher offers: see
:data:`IMAGE_QOS`); publishes ``faces`` (one message per frame, with the frame's header, also for
frames without faces so downstream sees every frame). The detector runs on every
``detect_every``-th frame; on the others the tracker's predicted boxes are published with score
NaN. The annotated image is drawn later in the graph, by ``face_annotator``, once identity and
age/gender are known.
"""

from __future__ import annotations

from dataclasses import dataclass

from face_common.graph_node import GraphNode, run_node
from face_common.images import image_msg_to_array
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_to_msg, frame_ref
from face_common.settings import setting
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from face_detect_node.detection import DetectionConfig, FaceFinder

IMAGE_QOS = QoSProfile(
    depth=5, reliability=ReliabilityPolicy.BEST_AVAILABLE, durability=DurabilityPolicy.BEST_AVAILABLE
)
"""The input QoS: whatever the frames' publisher offers. A camera publishes best effort (a frame
the detector has no time for is worth nothing later); ``frames_in`` publishes Kafka's frames
reliable and transient-local with at most ``max_in_flight`` (<= this depth) unacknowledged, so
none is lost on the way in. ROS resolves BEST_AVAILABLE against the publishers present when the
subscription is made, so the node subscribes once it sees one."""
PUBLISHER_POLL_S = 0.1


@dataclass(frozen=True)
class FaceDetectNodeSettings(DetectionConfig):
    log_frames: bool = setting(False, "Log every frame's face count at info level")


class FaceDetectNode(GraphNode):
    """Finds the faces of every frame of one camera: detection every few frames, tracks between."""

    settings_class = FaceDetectNodeSettings
    counters = ("frames", "detections", "faces")
    settings: FaceDetectNodeSettings

    def __init__(self) -> None:
        super().__init__("face_detect_node")
        self._finder = FaceFinder(self.settings)
        self._faces_pub = self.create_publisher(FacesMsg, "faces", FACES_QOS)
        self._image_topic = self.resolve_topic_name("image_raw")
        self._publisher_poll = self.create_timer(PUBLISHER_POLL_S, self._subscribe_once_published)
        self.get_logger().info(", ".join(f"{name}={value}" for name, value in vars(self.settings).items()))

    def _subscribe_once_published(self) -> None:
        """Subscribe once a publisher is seen: :data:`IMAGE_QOS` then matches it."""
        if self.count_publishers(self._image_topic) == 0:
            return
        self.destroy_timer(self._publisher_poll)
        subscription = self.create_subscription(Image, "image_raw", self._on_image, IMAGE_QOS)
        self.get_logger().info(f"subscribed to {subscription.topic_name}")

    def _on_image(self, msg: Image) -> None:
        decoded = self.decoded(lambda m: (image_msg_to_array(m, "bgr8"), frame_ref(m.header)), msg)
        if decoded is None:
            return
        frame_faces = self._finder.find(*decoded)
        frames = self.health.count("frames")
        self.health.count("faces", len(frame_faces.faces))
        self.health.set("detections", self._finder.detections)
        count = f"{frame_faces.frame.camera_id} frame {frames}: {len(frame_faces.faces)} face(s)"
        (self.get_logger().info if self.settings.log_frames else self.get_logger().debug)(count)
        self._faces_pub.publish(frame_faces_to_msg(frame_faces))


def main(args: list[str] | None = None) -> int:
    return run_node(FaceDetectNode, args)
