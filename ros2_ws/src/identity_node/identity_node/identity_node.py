"""ROS 2 node: faces in, the same faces with anonymous persistent face IDs out.

For each camera namespace in ``camera_namespaces`` it subscribes ``<ns>/faces`` and publishes
``<ns>/faces_identified`` (same message type, same header). The default, ``[""]``, serves the
node's own namespace. One node serves all cameras on purpose: the gallery file has one owner
process (see :mod:`identity_node.gallery_store`), so one person gets one ID on every camera.

Every published ID is on disk first. The descriptor holds the GIL while it runs, so this node
should run in its own process (not in a shared component container).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import partial

from face_common.graph_node import GraphNode, run_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg, frame_faces_to_msg
from face_common.settings import setting
from rclpy.publisher import Publisher

from identity_node.gallery_store import GalleryFormatError, GalleryInUseError
from identity_node.identification import FaceIdentifier, IdentitySettings


@dataclass(frozen=True)
class IdentityNodeSettings(IdentitySettings):
    gallery_path: str = setting("out/gallery.sqlite", "SQLite file of the face gallery (created if missing)")
    camera_namespaces: tuple[str, ...] = setting(
        ("",), "Camera namespaces served; '' is this node's own namespace"
    )


class IdentityNode(GraphNode):
    """Matches every face against one persistent gallery shared by all cameras."""

    settings_class = IdentityNodeSettings
    counters = ("frames", "faces", "described", "new_faces", "last_face_id")
    problems = ("bad_messages", "skipped_faces", "failed_frames")
    startup_errors = (*GraphNode.startup_errors, GalleryInUseError, GalleryFormatError)
    settings: IdentityNodeSettings

    def __init__(self) -> None:
        super().__init__("identity_node")
        self._identifier = FaceIdentifier.from_settings(self.settings, self.settings.gallery_path)
        for namespace in self.settings.camera_namespaces:
            prefix = f"{namespace.rstrip('/')}/" if namespace else ""
            publisher = self.create_publisher(FacesMsg, f"{prefix}faces_identified", FACES_QOS)
            self.create_subscription(
                FacesMsg, f"{prefix}faces", partial(self._on_faces, publisher), FACES_QOS
            )
        gallery = self._identifier.gallery
        self.health.set("last_face_id", gallery.last_face_id)
        self.get_logger().info(
            f"gallery={self.settings.gallery_path} known_ids={len(gallery.face_ids())} "
            f"last_face_id={gallery.last_face_id} backend={self.settings.descriptor_backend} "
            f"match_threshold={self.settings.match_threshold} cameras={list(self.settings.camera_namespaces)}"
        )

    def _on_faces(self, publisher: Publisher, msg: FacesMsg) -> None:
        frame_faces = self.decoded(frame_faces_from_msg, msg)
        if frame_faces is None:
            return
        try:
            problems = self._identifier.identify(frame_faces)
        except (sqlite3.Error, RuntimeError, ValueError) as err:
            # The descriptor or the gallery failed; an ID that is not on disk must not be published.
            self.report_problem("failed_frames", f"frame not identified: {err}", error=True)
            return
        if problems:
            what = f"{frame_faces.frame.camera_id}: faces left unidentified: {'; '.join(problems)}"
            self.report_problem("skipped_faces", what, len(problems))
        self.health.count("frames")
        self.health.count("faces", len(frame_faces.faces))
        self.health.count("new_faces", sum(face.new_face for face in frame_faces.faces))
        self.health.set("described", self._identifier.descriptions)
        self.health.set("last_face_id", self._identifier.gallery.last_face_id)
        publisher.publish(frame_faces_to_msg(frame_faces))

    def destroy_node(self) -> None:
        self._identifier.gallery.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(IdentityNode, args)
