"""ROS 2 node: the offer for the person in front of one camera's screen, on the ``offer`` topic.

Thin shell over ``signage_node.screen``: it turns each ``faces_attributed`` message into a frame,
asks the screen what to show and publishes each change as JSON (``std_msgs/String``) with
transient-local durability, so a screen that starts late still gets the current offer. Loyalty
comes from the event store's visits table, re-read every ``visits_refresh_s``; while the store is
unreadable, loyalty rules match nobody and ``store_errors`` counts it. A wrong offers file stops the
node at start (exit 1) with the message naming the rule and the key. Logs name rules, never faces.
"""

from __future__ import annotations

from face_common.graph_node import GraphNode, run_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg
from face_sink.mysql_store import describe_database, open_existing_store
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from signage_node.loyalty import VisitCounts, VisitsTable
from signage_node.offers import load_rules
from signage_node.screen import SignageScreen, SignageSettings, time_zone
from signage_node.selection import Debouncer

OFFER_QOS = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)
"""Only the current offer matters; a late subscriber (a screen started later) gets it at once."""


class SignageNode(GraphNode):
    settings_class = SignageSettings
    counters = ("frames", "offers_shown", "cleared")
    problems = ("bad_messages", "store_errors")
    settings: SignageSettings

    def __init__(self) -> None:
        super().__init__("signage_node")
        settings = self.settings
        rules = load_rules(settings.offers_file)
        self._visits = VisitCounts(settings.visit_gap_s)
        self._table = (
            VisitsTable(lambda: open_existing_store(settings.database, visit_gap_s=settings.visit_gap_s))
            if settings.database
            else None
        )
        self._screen = SignageScreen(
            rules,
            Debouncer(settings.min_display_s, settings.clear_after_s),
            self._visits.earlier_visits,
            time_zone(settings.timezone),
        )
        self._publisher = self.create_publisher(String, "offer", OFFER_QOS)
        if self._table is not None:
            self._refresh_visits()  # before the first frame: a returning customer is known at once
            self.create_timer(settings.visits_refresh_s, self._refresh_visits)
        self.create_subscription(FacesMsg, "faces_attributed", self._on_faces, FACES_QOS)
        self.get_logger().info(
            f"{len(rules)} offer rules from {settings.offers_file}; loyalty from "
            + (describe_database(settings.database) if settings.database else "nowhere (no database)")
        )

    def _refresh_visits(self) -> None:
        try:
            self._visits.load(self._table.read())
        except Exception as err:  # a missing file or a server down: the next period tries again
            self.report_problem("store_errors", f"visits table not read, loyalty as of the last read: {err}")

    def _on_faces(self, msg: FacesMsg) -> None:
        self.health.count("frames")
        frame_faces = self.decoded(frame_faces_from_msg, msg)
        if frame_faces is None:
            return
        shown = self._screen.update(frame_faces)
        if shown is None:
            return
        self._publisher.publish(String(data=shown.as_json()))
        if shown.rule is None:
            self.health.count("cleared")
            self.get_logger().info("nobody in front: offer cleared")
        else:
            self.health.count("offers_shown")
            self.get_logger().info(f"showing the offer of rule {shown.rule.name!r}")

    def close(self) -> None:
        if self._table is not None:
            self._table.close()
        super().close()


def main(args: list[str] | None = None) -> int:
    return run_node(SignageNode, args)
