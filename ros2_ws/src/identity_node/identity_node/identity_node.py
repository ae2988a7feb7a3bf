"""ROS 2 node: faces in, the same faces with anonymous persistent face IDs out.

For each camera namespace in ``camera_namespaces`` it subscribes ``<ns>/faces`` and publishes
``<ns>/faces_identified`` (same message type, same header). The default, ``[""]``, serves the
node's own namespace. One node serves all cameras on purpose: the gallery file has one owner
process (see :mod:`identity_node.gallery_store`), so one person gets one ID on every camera.

Every published ID is on disk first. The descriptor holds the GIL while it runs, so this node
should run in its own process (not in a shared component container).

The node owns the gallery file, so erasure goes through it while it runs: the ``erase_service``
(``face_msgs/srv/EraseFace``) drops one ID from the gallery in memory and on disk, makes the
tracks holding it start over, and announces the ID on ``/erased_faces`` (see
:mod:`face_common.erasure`) for the graph's other stores. Retention: every
``RETENTION_CHECK_PERIOD_S`` (and at start) the sightings are saved and, with
``descriptor_max_age_days`` set, the descriptors of IDs not seen for that long are dropped.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import partial

from face_common.erasure import DEFAULT_ERASE_SERVICE, ERASED_FACES_QOS, ERASED_FACES_TOPIC
from face_common.graph_node import GraphNode, run_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg, frame_faces_to_msg
from face_common.settings import setting
from face_msgs.srv import EraseFace
from rclpy.publisher import Publisher
from std_msgs.msg import Int64

from identity_node.gallery_store import GalleryFormatError, GalleryInUseError
from identity_node.identification import FaceIdentifier, IdentitySettings

SECONDS_PER_DAY = 86_400.0
RETENTION_CHECK_PERIOD_S = 3_600.0
"""As the sink's: retention in days needs no finer check, and each check is one transaction."""


@dataclass(frozen=True)
class IdentityNodeSettings(IdentitySettings):
    gallery_path: str = setting("out/gallery.sqlite", "SQLite file of the face gallery (created if missing)")
    camera_namespaces: tuple[str, ...] = setting(
        ("",), "Camera namespaces served; '' is this node's own namespace"
    )
    erase_service: str = setting(
        DEFAULT_ERASE_SERVICE,
        "Service (face_msgs/srv/EraseFace) that erases one face ID while the node runs; face_erase calls it",
    )
    descriptor_max_age_days: float = setting(
        0.0,
        "Drop the descriptors of face IDs not seen for this many days (the ID stays retired; a "
        "returning face gets a new one); 0 keeps them",
        0.0,
        36_500.0,
    )


class IdentityNode(GraphNode):
    """Matches every face against one persistent gallery shared by all cameras."""

    settings_class = IdentityNodeSettings
    counters = ("frames", "faces", "described", "new_faces", "last_face_id", "erased", "expired")
    problems = ("bad_messages", "skipped_faces", "failed_frames", "gallery_failures")
    startup_errors = (*GraphNode.startup_errors, GalleryInUseError, GalleryFormatError)
    """OSError: a missing model file, a gallery path that cannot be written."""
    settings: IdentityNodeSettings

    def __init__(self) -> None:
        super().__init__("identity_node")
        self._identifier = FaceIdentifier.from_settings(self.settings, self.settings.gallery_path)
        self._erased = self.create_publisher(Int64, ERASED_FACES_TOPIC, ERASED_FACES_QOS)
        self.create_service(EraseFace, self.settings.erase_service, self._on_erase)
        # IDs past their age go before the first frame can match them.
        self._apply_retention()
        self.create_timer(RETENTION_CHECK_PERIOD_S, self._apply_retention)
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
            f"match_threshold={self.settings.match_threshold} "
            f"cameras={list(self.settings.camera_namespaces)} erase_service={self.settings.erase_service} "
            f"descriptor_max_age_days={self.settings.descriptor_max_age_days:g}"
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

    def _on_erase(self, request: EraseFace.Request, response: EraseFace.Response) -> EraseFace.Response:
        """Erase one ID between two frames (the executor is single-threaded), then announce it."""
        face_id = int(request.face_id)
        gallery = self._identifier.gallery
        response.gallery = str(self.settings.gallery_path)
        if not 1 <= face_id <= gallery.last_face_id:
            # Announcing an ID not yet issued would erase the data of whoever later gets it.
            response.success = False
            response.message = f"face ID {face_id} was never issued (last issued: {gallery.last_face_id})"
            return response
        try:
            response.descriptors_removed = gallery.erase(face_id)
        except sqlite3.Error as err:
            self.report_problem("gallery_failures", f"erasure of face {face_id} failed: {err}", error=True)
            response.success = False
            response.message = f"gallery error, nothing erased: {err}"
            return response
        self._erased.publish(Int64(data=face_id))
        self.health.count("erased")
        response.success = True
        response.message = (
            f"face {face_id}: {response.descriptors_removed} descriptors erased from {response.gallery}, "
            f"announced on {ERASED_FACES_TOPIC}"
        )
        self.get_logger().info(response.message)
        return response

    def _apply_retention(self) -> None:
        gallery = self._identifier.gallery
        days = self.settings.descriptor_max_age_days
        try:
            gallery.save_last_seen()
            expired = gallery.expire_unseen(days * SECONDS_PER_DAY) if days > 0 else []
        except sqlite3.Error as err:  # a full disk, say: the next period tries again
            self.report_problem("gallery_failures", f"retention check failed: {err}", error=True)
            return
        if expired:
            self.health.count("expired", len(expired))
            self.get_logger().info(
                f"retention: dropped the descriptors of {len(expired)} IDs not seen for {days:g} days"
            )

    def destroy_node(self) -> None:
        if hasattr(self, "_identifier"):  # not when the node could not start
            self._identifier.gallery.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(IdentityNode, args)
