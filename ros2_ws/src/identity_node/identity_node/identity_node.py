"""ROS 2 node: faces in, the same faces with anonymous persistent face IDs out.

For each camera namespace in ``camera_namespaces`` it subscribes ``<ns>/faces`` and publishes
``<ns>/faces_identified`` (same message type, same header). The default, ``[""]``, serves the
node's own namespace. One node serves all cameras on purpose: the gallery file has one owner
process (see :mod:`identity_node.gallery_store`), so one person gets one ID on every camera.

Every published ID is on disk first. The descriptor costs ~0.1 s per face and holds the GIL, so
this node should run in its own process (not in a shared component container).
"""

from __future__ import annotations

import sqlite3
from functools import partial

from face_common.images import ImageConversionError
from face_common.node_support import declare_settings, read_only, spin_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg, frame_faces_to_msg
from rclpy.node import Node
from rclpy.publisher import Publisher

from identity_node.identification import FaceIdentifier, IdentitySettings

SUMMARY_PERIOD_S = 10.0


class IdentityNode(Node):
    """Matches every face against one persistent gallery shared by all cameras."""

    def __init__(self) -> None:
        super().__init__("identity_node")
        gallery_path = self.declare_parameter(
            "gallery_path",
            "face_gallery.sqlite",
            read_only("SQLite file of the face gallery (created if missing)"),
        ).value
        settings = declare_settings(self, IdentitySettings)
        namespaces = self.declare_parameter(
            "camera_namespaces",
            [""],
            read_only("Camera namespaces served; '' is this node's own namespace"),
        ).value

        self._identifier = FaceIdentifier.from_settings(settings, gallery_path)
        for namespace in namespaces:
            prefix = f"{namespace.rstrip('/')}/" if namespace else ""
            publisher = self.create_publisher(FacesMsg, f"{prefix}faces_identified", FACES_QOS)
            self.create_subscription(
                FacesMsg, f"{prefix}faces", partial(self._on_faces, publisher), FACES_QOS
            )
        self.create_timer(SUMMARY_PERIOD_S, self._log_summary)
        self.frames = 0
        self.faces = 0
        self.new_faces = 0
        self.bad_messages = 0
        self.skipped_faces = 0
        self.failed_frames = 0
        gallery = self._identifier.gallery
        self.get_logger().info(
            f"gallery={gallery_path} known_ids={len(gallery.face_ids())} last_face_id={gallery.last_face_id} "
            f"backend={settings.descriptor_backend} match_threshold={settings.match_threshold} "
            f"cameras={list(namespaces)}"
        )

    def _on_faces(self, publisher: Publisher, msg: FacesMsg) -> None:
        try:
            frame_faces = frame_faces_from_msg(msg)
        except ImageConversionError as err:
            self.bad_messages += 1
            self.get_logger().warning(f"dropping bad faces message (bad_messages={self.bad_messages}): {err}")
            return
        try:
            problems = self._identifier.identify(frame_faces)
        except (sqlite3.Error, RuntimeError, ValueError) as err:
            # dlib or the gallery failed; an ID that is not on disk must not be published.
            self.failed_frames += 1
            self.get_logger().error(f"frame not identified (failed_frames={self.failed_frames}): {err}")
            return
        if problems:
            self.skipped_faces += len(problems)
            self.get_logger().warning(
                f"{frame_faces.frame.camera_id}: faces left unidentified "
                f"(skipped_faces={self.skipped_faces}): {'; '.join(problems)}",
                throttle_duration_sec=5.0,
            )
        self.frames += 1
        self.faces += len(frame_faces.faces)
        self.new_faces += sum(face.new_face for face in frame_faces.faces)
        publisher.publish(frame_faces_to_msg(frame_faces))

    def _log_summary(self) -> None:
        self.get_logger().info(
            f"frames={self.frames} faces={self.faces} described={self._identifier.descriptions} "
            f"new_faces={self.new_faces} "
            f"last_face_id={self._identifier.gallery.last_face_id} bad_messages={self.bad_messages} "
            f"skipped_faces={self.skipped_faces} failed_frames={self.failed_frames}"
        )

    def destroy_node(self) -> None:
        self._identifier.gallery.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    spin_node(IdentityNode, args)


if __name__ == "__main__":
    main()
