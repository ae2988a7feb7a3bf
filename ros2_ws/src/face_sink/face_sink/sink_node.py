"""ROS 2 node: writes every attributed face as one event row (SQLite by default).

Thin shell over ``face_sink.writer`` and ``face_sink.schema``: it turns each ``faces_attributed``
message into events, queues them, writes each frame in one transaction and retries while the
database is unavailable, so a locked or missing database costs latency, not events.
"""

from __future__ import annotations

import time

from face_common.faces import FaceEvent, FrameFaces
from face_common.node_support import read_only, spin_node
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_from_msg
from rclpy.node import Node

from face_sink.crop_archive import CropArchive
from face_sink.mysql_store import describe_database, open_store
from face_sink.schema import DEFAULT_SQLITE_PATH
from face_sink.writer import RetryingEventWriter

SECONDS_PER_DAY = 86_400.0
RETENTION_CHECK_PERIOD_S = 3_600.0


class SourceDone(Exception):
    """Raised from a timer to leave ``spin`` once a finite source has been fully written."""


class FaceSinkNode(Node):
    def __init__(self) -> None:
        super().__init__("face_sink")
        database = self._declare(
            "database",
            str(DEFAULT_SQLITE_PATH),
            "Event store: SQLite file (created if missing), sqlite:///path, or mysql://user@host:port/db "
            "with the password in $FACE_DB_PASSWORD",
        )
        self._retention_days = float(
            self._declare("retention_days", 0.0, "Delete events older than this many days; 0 keeps all")
        )
        save_crops = bool(
            self._declare(
                "save_crops", False, "Save identified faces' crops, a folder per face ID (personal data: off)"
            )
        )
        crops_dir = self._declare("crops_dir", "out/crops", "Root folder of the saved crops")
        max_pending = int(
            self._declare(
                "max_pending_events",
                10_000,
                "Events kept in memory while the database is unavailable; more are dropped and counted",
            )
        )
        retry_interval_s = float(
            self._declare(
                "retry_interval_s", 2.0, "Seconds between attempts to reach an unavailable database"
            )
        )
        self._exit_when_idle_s = float(
            self._declare(
                "exit_when_idle_s",
                0.0,
                "After the first frame, exit once no frame came for this many seconds: ends the graph "
                "when a recorded source is done (0 = run until stopped)",
            )
        )

        self._writer = RetryingEventWriter(
            lambda: open_store(database), max_pending=max_pending, retry_interval_s=retry_interval_s
        )
        self._archive = CropArchive(crops_dir) if save_crops else None
        self._bad_messages = 0
        self._crop_failures = 0
        self._database_down = False

        # Old events go before the first new one can come: subscribed means retention applied.
        if self._retention_days > 0:
            self._apply_retention()
            self.create_timer(RETENTION_CHECK_PERIOD_S, self._apply_retention)
        self.create_subscription(FacesMsg, "faces_attributed", self._on_faces, FACES_QOS)
        self.create_timer(retry_interval_s, self._flush)
        self._last_frame_at: float | None = None
        self.frames = 0
        if self._exit_when_idle_s > 0:
            self.create_timer(min(1.0, self._exit_when_idle_s), self._exit_if_idle)
        self.get_logger().info(
            f"writing face events to {describe_database(database)}"
            + (f", keeping {self._retention_days:g} days" if self._retention_days > 0 else "")
            + (f", crops to {crops_dir}" if save_crops else "")
        )

    def _declare(self, name: str, default: object, description: str) -> object:
        return self.declare_parameter(name, default, read_only(description)).value

    def _on_faces(self, msg: FacesMsg) -> None:
        self._last_frame_at = time.monotonic()
        self.frames += 1
        try:
            frame_faces = frame_faces_from_msg(msg)
        except ValueError as exc:
            self._bad_messages += 1
            self.get_logger().error(f"unreadable faces message ({self._bad_messages} so far): {exc}")
            return
        events = [FaceEvent.from_face(frame_faces.frame, face) for face in frame_faces.faces]
        counters = self._writer.counters
        for problem in self._writer.submit(events):
            self.get_logger().error(
                f"{problem} (dropped {counters.dropped}, invalid {counters.invalid})",
                throttle_duration_sec=5.0,
            )
        if self._archive is not None:
            self._save_crops(frame_faces)
        self._flush()

    def _save_crops(self, frame_faces: FrameFaces) -> None:
        for face in frame_faces.faces:
            try:
                self._archive.save(frame_faces.frame, face)
            except OSError as exc:
                self._crop_failures += 1
                self.get_logger().error(
                    f"crop not saved ({self._crop_failures} so far): {exc}", throttle_duration_sec=5.0
                )

    def _flush(self) -> None:
        # Each frame is written as it arrives; after a failure, only once per retry interval.
        result = self._writer.flush()
        counters = self._writer.counters
        if result.error is not None:
            self._database_down = True
            self.get_logger().error(
                f"database unavailable, {self._writer.pending} events queued "
                f"(failures {counters.failures}, dropped {counters.dropped}): {result.error}",
                throttle_duration_sec=10.0,
            )
        elif result.written and self._database_down:
            self._database_down = False
            self.get_logger().info(
                f"database reachable again: wrote {result.written} queued events "
                f"({result.inserted} new), dropped {counters.dropped} while down"
            )

    def _exit_if_idle(self) -> None:
        if self._last_frame_at is None or time.monotonic() - self._last_frame_at < self._exit_when_idle_s:
            return
        self.get_logger().info(
            f"no frame for {self._exit_when_idle_s:g} s after {self.frames} frames: source done, exiting"
        )
        raise SourceDone

    def _apply_retention(self) -> None:
        try:
            removed = self._writer.purge_older_than(self._retention_days * SECONDS_PER_DAY)
        except Exception as exc:  # the database may be down; the next period tries again
            self.get_logger().error(f"retention purge failed: {exc}")
            return
        if removed:
            self.get_logger().info(
                f"retention: deleted {removed} events older than {self._retention_days:g} days"
            )

    def destroy_node(self) -> None:
        self.close()
        super().destroy_node()

    def close(self) -> None:
        """Last attempt to write what is queued, then say what could not be."""
        self._writer.flush(force=True)
        if self._writer.pending:
            self.get_logger().error(f"shutting down with {self._writer.pending} events not written")
        self._writer.close()


def main(args: list[str] | None = None) -> None:
    spin_node(FaceSinkNode, args, done=(SourceDone,))
