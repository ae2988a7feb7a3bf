"""ROS 2 node: identified faces in, the same faces with age, gender and P(female) out.

Subscribes ``faces_identified`` and publishes ``faces_attributed`` (same message type, same
header), estimating all faces of a frame in one model call. A frame whose faces cannot be
estimated is still published, with the attributes unset, so no identity event is lost
downstream. Backend licenses: see :mod:`agegender_node.estimators`.
"""

from __future__ import annotations

import os

from face_common.node_support import declare_settings, spin_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg, frame_faces_to_msg
from rclpy.node import Node

from agegender_node.attribution import AttributionSettings, FaceAttributor

SUMMARY_PERIOD_S = 10.0


class AgeGenderNode(Node):
    """Fills in age/gender for every face of every frame."""

    def __init__(self) -> None:
        super().__init__("agegender_node")
        settings = declare_settings(self, AttributionSettings)
        os.environ.setdefault("OMP_NUM_THREADS", str(settings.num_threads))
        self._attributor = FaceAttributor.from_settings(settings)

        self._publisher = self.create_publisher(FacesMsg, "faces_attributed", FACES_QOS)
        self.create_subscription(FacesMsg, "faces_identified", self._on_faces, FACES_QOS)
        self.create_timer(SUMMARY_PERIOD_S, self._log_summary)
        self.frames = 0
        self.faces = 0
        self.bad_messages = 0
        self.skipped_faces = 0
        self.failed_frames = 0
        self.get_logger().info(
            f"backend={settings.backend} model_dir={settings.model_dir} num_threads={settings.num_threads}"
        )

    def _on_faces(self, msg: FacesMsg) -> None:
        try:
            frame_faces = frame_faces_from_msg(msg)
        except ValueError as err:
            self.bad_messages += 1
            self.get_logger().warning(f"dropping bad faces message (bad_messages={self.bad_messages}): {err}")
            return
        try:
            skipped = self._attributor.attribute(frame_faces)
        except ValueError as err:
            self.failed_frames += 1
            self.get_logger().error(
                f"{frame_faces.frame.camera_id}: frame published without age/gender "
                f"(failed_frames={self.failed_frames}): {err}"
            )
        else:
            self.faces += len(frame_faces.faces) - len(skipped)
            if skipped:
                self.skipped_faces += len(skipped)
                self.get_logger().warning(
                    f"{frame_faces.frame.camera_id}: faces without a crop (or its box) left unestimated "
                    f"(skipped_faces={self.skipped_faces})",
                    throttle_duration_sec=5.0,
                )
        self.frames += 1
        self._publisher.publish(frame_faces_to_msg(frame_faces))

    def _log_summary(self) -> None:
        self.get_logger().info(
            f"frames={self.frames} faces={self.faces} estimated={self._attributor.estimates} "
            f"bad_messages={self.bad_messages} "
            f"skipped_faces={self.skipped_faces} failed_frames={self.failed_frames}"
        )


def main(args: list[str] | None = None) -> None:
    spin_node(AgeGenderNode, args)


if __name__ == "__main__":
    main()
