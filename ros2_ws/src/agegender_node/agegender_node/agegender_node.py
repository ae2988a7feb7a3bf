"""ROS 2 node: identified faces in, the same faces with age, gender and P(female) out.

Subscribes ``faces_identified`` and publishes ``faces_attributed`` (same message type, same
header), estimating all faces of a frame in one model call. A frame whose faces cannot be
estimated is still published, with the attributes unset, so no identity event is lost
downstream. Backend licenses: see :mod:`agegender_node.estimators`.
"""

from __future__ import annotations

import os

from face_common.graph_node import GraphNode, run_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg, frame_faces_to_msg

from agegender_node.attribution import AttributionSettings, FaceAttributor


class AgeGenderNode(GraphNode):
    """Fills in age/gender for every face of every frame."""

    settings_class = AttributionSettings
    counters = ("frames", "faces", "estimated")
    problems = ("bad_messages", "skipped_faces", "failed_frames")
    """A missing or unreadable model file (unreadable ONNX files are ValueErrors already)."""
    settings: AttributionSettings

    def __init__(self) -> None:
        super().__init__("agegender_node")
        os.environ.setdefault("OMP_NUM_THREADS", str(self.settings.num_threads))
        self._attributor = FaceAttributor.from_settings(self.settings)
        self._publisher = self.create_publisher(FacesMsg, "faces_attributed", FACES_QOS)
        self.create_subscription(FacesMsg, "faces_identified", self._on_faces, FACES_QOS)
        self.get_logger().info(
            f"backend={self.settings.backend} model_dir={self.settings.model_dir} "
            f"num_threads={self.settings.num_threads}"
        )

    def _on_faces(self, msg: FacesMsg) -> None:
        frame_faces = self.decoded(frame_faces_from_msg, msg)
        if frame_faces is None:
            return
        try:
            skipped = self._attributor.attribute(frame_faces)
        except ValueError as err:
            what = f"{frame_faces.frame.camera_id}: frame published without age/gender: {err}"
            self.report_problem("failed_frames", what, error=True)
        else:
            self.health.count("faces", len(frame_faces.faces) - len(skipped))
            if skipped:
                what = f"{frame_faces.frame.camera_id}: faces without a crop (or its box) left unestimated"
                self.report_problem("skipped_faces", what, len(skipped))
        self.health.count("frames")
        self.health.set("estimated", self._attributor.estimates)
        self._publisher.publish(frame_faces_to_msg(frame_faces))


def main(args: list[str] | None = None) -> int:
    return run_node(AgeGenderNode, args)
