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
from pathlib import Path

from face_common.images import ImageConversionError
from face_common.node_support import read_only, spin_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg, frame_faces_to_msg
from face_common.track_views import DEFAULT_MAX_VIEWS, DEFAULT_MIN_VIEW_GAIN, DEFAULT_TRACK_TTL_S
from rcl_interfaces.msg import FloatingPointRange, IntegerRange
from rclpy.node import Node
from rclpy.publisher import Publisher

from identity_node.descriptor import (
    DEFAULT_DESCRIPTOR_BACKEND,
    DESCRIPTOR_BACKENDS,
    DESCRIPTOR_SIZE,
    make_descriptor,
)
from identity_node.gallery import (
    DEFAULT_MATCH_THRESHOLD,
    DEFAULT_MAX_DESCRIPTORS_PER_ID,
    DEFAULT_NOVELTY_DISTANCE,
    FaceGallery,
)
from identity_node.identification import DEFAULT_MIN_VIEWS_TO_ENROL, FaceIdentifier

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
        match_threshold = self.declare_parameter(
            "match_threshold",
            DEFAULT_MATCH_THRESHOLD,
            read_only(
                "Descriptor distance under which a face is a known ID (0.6: dlib's LFW threshold)",
                floating_point_range=[FloatingPointRange(from_value=0.05, to_value=2.0, step=0.0)],
            ),
        ).value
        max_descriptors = self.declare_parameter(
            "max_descriptors_per_id",
            DEFAULT_MAX_DESCRIPTORS_PER_ID,
            read_only(
                "Views kept per face ID; when full the oldest non-first view is replaced",
                integer_range=[IntegerRange(from_value=1, to_value=64, step=1)],
            ),
        ).value
        novelty_distance = self.declare_parameter(
            "novelty_distance",
            DEFAULT_NOVELTY_DISTANCE,
            read_only(
                "A matched face at least this far from its ID's views is stored as a new view",
                floating_point_range=[FloatingPointRange(from_value=0.0, to_value=2.0, step=0.0)],
            ),
        ).value
        max_views = self.declare_parameter(
            "max_views_per_track",
            DEFAULT_MAX_VIEWS,
            read_only(
                "Describe a face track at most this many times: its first usable view, then only "
                "better ones (larger, sharper, surer detection)",
                integer_range=[IntegerRange(from_value=1, to_value=100, step=1)],
            ),
        ).value
        min_view_gain = self.declare_parameter(
            "min_view_gain",
            DEFAULT_MIN_VIEW_GAIN,
            read_only(
                "A view is described again only when its quality beats the track's best by this fraction",
                floating_point_range=[FloatingPointRange(from_value=0.0, to_value=10.0, step=0.0)],
            ),
        ).value
        min_views_to_enrol = self.declare_parameter(
            "min_views_to_enrol",
            DEFAULT_MIN_VIEWS_TO_ENROL,
            read_only(
                "A track matching no known face becomes a new ID only after this many agreeing views",
                integer_range=[IntegerRange(from_value=1, to_value=100, step=1)],
            ),
        ).value
        track_ttl_s = self.declare_parameter(
            "track_ttl_s",
            DEFAULT_TRACK_TTL_S,
            read_only(
                "Forget a track not seen for this long (capture time)",
                floating_point_range=[FloatingPointRange(from_value=0.0, to_value=3600.0, step=0.0)],
            ),
        ).value
        backend = self.declare_parameter(
            "descriptor_backend",
            DEFAULT_DESCRIPTOR_BACKEND,
            read_only(f"Face descriptor backend, one of {sorted(DESCRIPTOR_BACKENDS)}"),
        ).value
        num_jitters = self.declare_parameter(
            "num_jitters",
            0,
            read_only(
                "Average each descriptor over this many jittered copies (slower, not deterministic)",
                integer_range=[IntegerRange(from_value=0, to_value=100, step=1)],
            ),
        ).value
        model_dir = self.declare_parameter(
            "model_dir",
            "models",
            read_only("Folder of set-up made model files (scripts/fetch_models.sh), for dlib_resnet_onnx"),
        ).value
        namespaces = self.declare_parameter(
            "camera_namespaces",
            [""],
            read_only("Camera namespaces served; '' is this node's own namespace"),
        ).value

        descriptor = make_descriptor(backend, num_jitters=num_jitters, model_dir=Path(model_dir))
        gallery = FaceGallery(
            gallery_path,
            descriptor_kind=descriptor.name,
            descriptor_size=DESCRIPTOR_SIZE,
            match_threshold=match_threshold,
            max_descriptors_per_id=max_descriptors,
            novelty_distance=novelty_distance,
        )
        self._identifier = FaceIdentifier(
            descriptor, gallery, max_views, min_view_gain, min_views_to_enrol, track_ttl_s
        )
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
        self.get_logger().info(
            f"gallery={gallery_path} known_ids={len(gallery.face_ids())} last_face_id={gallery.last_face_id} "
            f"backend={backend} match_threshold={match_threshold} cameras={list(namespaces)}"
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
