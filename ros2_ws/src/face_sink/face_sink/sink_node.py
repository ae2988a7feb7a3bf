"""ROS 2 node: writes every attributed face as one event row (SQLite by default).

Thin shell over ``face_sink.writer`` and ``face_sink.schema``: it turns each ``faces_attributed``
message into events, spools them on disk (``spool_path``), writes each frame in one transaction
and retries while the database is unavailable, so a locked or missing database or a crash of the
node costs latency, not events: on start it writes what an earlier run left in the spool. While
the database is unavailable or the spool is full the node's ``/diagnostics`` status is ERROR; a
permanent database error (a table of another schema, access denied) stops it with one line and
exit status 1, its events kept in the spool for the next start. One sink can serve several cameras
(``camera_namespaces``, as identity_node's): one database connection and writer for a store's
cameras, and with ``exit_when_idle_s`` the graph ends once the last of them has gone quiet.

Each frame whose events are spooled (accepted, durable) is acknowledged on ``faces_stored`` (its
header, no faces): ``frames_in`` commits a Kafka offset only once the frame's events are there,
so a crash anywhere in the chain leaves the frame to be consumed again.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from face_common.faces import FaceEvent, FrameFaces
from face_common.graph_node import GraphNode, run_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg
from face_common.settings import setting
from rclpy.publisher import Publisher

from face_sink.crop_archive import CropArchive
from face_sink.mysql_store import describe_database, open_store
from face_sink.spool import SpoolError, node_spool_path
from face_sink.writer import FlushResult, RetryingEventWriter, SinkSettings, WriterCounters

STORED_TOPIC = "faces_stored"
"""Where a frame is acknowledged once its events are spooled (``frames_in``'s ``ack_topic``)."""
SECONDS_PER_DAY = 86_400.0
RETENTION_CHECK_PERIOD_S = 3_600.0


@dataclass(frozen=True)
class SinkNodeSettings(SinkSettings):
    camera_namespaces: tuple[str, ...] = setting(
        ("",), "Camera namespaces whose faces_attributed are written; '' is this node's own namespace"
    )


class FaceSinkNode(GraphNode):
    settings_class = SinkNodeSettings
    counters = ("frames", "pending", *(f.name for f in dataclasses.fields(WriterCounters)))
    problems = ("bad_messages", "crop_failures")
    startup_errors = (*GraphNode.startup_errors, SpoolError)
    settings: SinkNodeSettings

    def __init__(self) -> None:
        super().__init__("face_sink")
        settings = self.settings
        self._writer = RetryingEventWriter(
            lambda: open_store(settings.database, visit_gap_s=settings.visit_gap_s),
            max_pending=settings.max_pending_events,
            retry_interval_s=settings.retry_interval_s,
            spool_path=node_spool_path(
                settings.spool_path, self.get_fully_qualified_name(), self.context.get_domain_id()
            ),
        )
        self._database_error: str | None = None
        """The last transient error while the database is unavailable (None: it is available)."""
        self._archive = CropArchive(settings.crops_dir) if settings.save_crops else None
        self.get_logger().info(
            f"writing face events to {describe_database(settings.database)}"
            + (f", keeping {settings.retention_days:g} days" if settings.retention_days > 0 else "")
            + (f", crops to {settings.crops_dir}" if settings.save_crops else "")
            + f", cameras={list(settings.camera_namespaces)}, spool {self._writer.spool.path}"
        )
        if self._writer.pending:
            self.get_logger().info(f"writing {self._writer.pending} events an earlier run left in the spool")
            self._flush(force=True)
        # Old events go before the first new one can come: subscribed means retention applied.
        if settings.retention_days > 0 and not self.finished:
            self._apply_retention()
            self.create_timer(RETENTION_CHECK_PERIOD_S, self._apply_retention)
        for namespace in settings.camera_namespaces:
            prefix = f"{namespace.rstrip('/')}/" if namespace else ""
            stored = self.create_publisher(FacesMsg, f"{prefix}{STORED_TOPIC}", FACES_QOS)
            self.create_subscription(
                FacesMsg,
                f"{prefix}faces_attributed",
                lambda msg, stored=stored: self._on_faces(msg, stored),
                FACES_QOS,
            )
        self.create_timer(settings.retry_interval_s, self._flush)
        self._last_frame_at: float | None = None
        if settings.exit_when_idle_s > 0:
            self.create_timer(min(1.0, settings.exit_when_idle_s), self._finish_if_idle)

    def _on_faces(self, msg: FacesMsg, stored: Publisher) -> None:
        self._last_frame_at = time.monotonic()
        self.health.count("frames")
        frame_faces = self.decoded(frame_faces_from_msg, msg)
        if frame_faces is None:
            return
        events = [FaceEvent.from_face(frame_faces.frame, face) for face in frame_faces.faces]
        counters = self._writer.counters
        dropped = counters.dropped
        for problem in self._writer.submit(events):
            self.get_logger().error(
                f"{problem} (dropped {counters.dropped}, invalid {counters.invalid})",
                throttle_duration_sec=5.0,
            )
        if counters.dropped == dropped:  # every event spooled (or refused as invalid for good)
            stored.publish(FacesMsg(header=msg.header))
        if self._archive is not None:
            self._save_crops(frame_faces)
        self._flush()

    def _save_crops(self, frame_faces: FrameFaces) -> None:
        for face in frame_faces.faces:
            try:
                self._archive.save(frame_faces.frame, face)
            except OSError as exc:
                self.report_problem("crop_failures", f"crop not saved: {exc}", error=True)

    def _flush(self, force: bool = False) -> None:
        # Each frame is written as it arrives; after a failure, only once per retry interval.
        result = self._writer.flush(force=force)
        for name, value in dataclasses.asdict(self._writer.counters).items():
            self.health.set(name, value)
        self.health.set("pending", self._writer.pending)
        if result.permanent:
            self.fail(
                f"permanent database error, stopping: {result.error}; {self._writer.pending} events "
                f"kept in the spool {self._writer.spool.path}, written at the next start once the "
                "database is fixed"
            )
            return
        self._report_database(result)
        spool, faults = self._writer.spool, []
        if self._database_error is not None:
            faults.append(f"database unavailable, {len(spool)} events spooled: {self._database_error}")
        if spool.full:
            faults.append(f"spool full ({spool.capacity} events), {self._writer.counters.dropped} refused")
        self.health.fault = "; ".join(faults) or None

    def _report_database(self, result: FlushResult) -> None:
        """Log the database going away (throttled) and coming back (once)."""
        counters = self._writer.counters
        if result.error is not None:
            self._database_error = result.error
            self.get_logger().error(
                f"database unavailable, {self._writer.pending} events spooled "
                f"(failures {counters.failures}, dropped {counters.dropped}): {result.error}",
                throttle_duration_sec=10.0,
            )
        elif result.written and self._database_error is not None:
            self._database_error = None
            self.get_logger().info(
                f"database reachable again: wrote {result.written} spooled events "
                f"({result.inserted} new), dropped {counters.dropped} while down"
            )

    def _finish_if_idle(self) -> None:
        # Every camera's frame restarts the wait: the sink ends after the last camera's last frame.
        idle_s = self.settings.exit_when_idle_s
        if self._last_frame_at is None or time.monotonic() - self._last_frame_at < idle_s:
            return
        self.get_logger().info(
            f"no frame for {idle_s:g} s after {self.health['frames']} frames: source done, exiting"
        )
        self.finished = True

    def _apply_retention(self) -> None:
        days = self.settings.retention_days
        try:
            removed = self._writer.purge_older_than(days * SECONDS_PER_DAY)
        except Exception as exc:  # the database may be down; the next period tries again
            self.get_logger().error(f"retention purge failed: {exc}")
            return
        if removed:
            self.get_logger().info(f"retention: deleted {removed} events older than {days:g} days")

    def close(self) -> None:
        """Last attempt to write what is spooled (not after a permanent error), then say what is left."""
        if self.failure is None:
            self._flush(force=True)
        if self._writer.pending:
            self.get_logger().error(
                f"shutting down with {self._writer.pending} events not written, kept in the spool "
                f"{self._writer.spool.path} for the next start"
            )
        self._writer.close()
        super().close()


def main(args: list[str] | None = None) -> int:
    return run_node(FaceSinkNode, args)
