"""The erasure contract of the graph: the identity node's service and the topic it announces on.

``face_erase`` (or any ROS client) calls :data:`DEFAULT_ERASE_SERVICE` (``face_msgs/srv/EraseFace``)
on the running identity node, which drops the ID from the gallery it holds and then publishes the
ID on :data:`ERASED_FACES_TOPIC`, so every other store of the graph forgets it too: the annotator
deletes its saved frames, the events bridge sends a Kafka tombstone. It lives in face_common, which
every node package depends on, so those nodes share these names without depending on the
identity stage (or on each other).
"""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

DEFAULT_ERASE_SERVICE = "/erase_face"
"""Global, like the gallery: one identity node serves every camera."""

ERASED_FACES_TOPIC = "/erased_faces"
"""``std_msgs/Int64``: one erased face ID per message."""

ERASED_FACES_QOS = QoSProfile(
    depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)
"""Reliable and transient-local: a subscriber that (re)starts late still learns the last 100
erasures. Applying one twice is harmless because an erased ID is never issued again."""
