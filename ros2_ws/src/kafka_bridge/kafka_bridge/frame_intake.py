"""Server side of the frames topic: which consumed records become images (ROS-free).

Live uses (signage) want fresh frames: after a backlog (a slow server, a consumer that was
down), frames older than ``max_frame_age_s`` are skipped, counted, and never decoded: the age
comes from the headers, so skipping costs nothing. Analytics wants completeness: 0 keeps all.
Age is measured against this machine's clock from the camera's capture stamp, so the Pi and the
server must be time-synchronised (NTP/chrony), as every stamp in the graph already assumes.

Flow control: Kafka hands out a backlog far faster than a detector works, and a burst on the
image topic is lost in its queues. So each camera has at most ``max_in_flight`` frames in the
analysis chain (:class:`InFlight`), each until the chain's last stage acknowledges it (its message
on ``ack_topic``); analytics waits for room, live drops the frame and counts why. Offsets are
committed only below the first frame not done (:class:`CommitTracker`), so a server that stops
leaves every frame still in its chain to be consumed again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from face_common.faces import FrameRef
from face_common.settings import setting

from kafka_bridge.connection import KafkaSettings
from kafka_bridge.frame_record import FrameMeta, FrameRecordError, decode_image
from kafka_bridge.topics import FRAMES_TOPIC


@dataclass(frozen=True)
class FramesInSettings(KafkaSettings):
    """``frames_in``: which group consumes the frames, which it skips, where it publishes them."""

    topic: str = setting(FRAMES_TOPIC, "Kafka topic of the frames")
    group_id: str = setting("frames_in", "Kafka consumer group shared by the servers")
    max_frame_age_s: float = setting(
        0.0, "Skip frames older than this (s); 0: keep all (analytics)", 0.0, 86_400.0
    )
    output_topic: str = setting("{camera_id}/image_raw", "Image topic; {camera_id} is filled in")
    session_timeout_ms: int = setting(
        10_000, "Consumer group session timeout (how soon another server takes over)", 1_000, 3_600_000
    )
    camera_ids: tuple[str, ...] = setting(
        ("",), "Cameras to publish from the start, so subscribers match before the first frame ('' = none)"
    )
    ack_topic: str = setting(
        "{camera_id}/faces_stored",
        "Topic whose message for a frame acknowledges it ({camera_id} is filled in; the sink's "
        "faces_stored: the frame's events are spooled); "
        "empty: no flow control, every frame published at once, best effort",
    )
    max_in_flight: int = setting(
        4,
        "Frames of a camera published and not yet acknowledged: analytics waits, live drops beyond "
        "(at most face_detect's image queue depth)",
        1,
        5,
    )
    ack_timeout_s: float = setting(
        60.0,
        "A frame not acknowledged within this is counted as unacknowledged and no longer waited for",
        1.0,
        3600.0,
    )


@dataclass
class IntakeStats:
    received: int = 0
    decoded: int = 0
    too_old: int = 0
    """Skipped for being older than ``max_frame_age_s``."""
    bad: int = 0
    """Unreadable: bad headers, corrupt or mis-sized payload."""

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class FrameIntake:
    def __init__(self, max_frame_age_s: float = 0.0) -> None:
        if max_frame_age_s < 0:
            raise ValueError(f"max_frame_age_s must be >= 0 (0 = keep all), got {max_frame_age_s}")
        self.max_age_ns = round(max_frame_age_s * 1e9)
        self.stats = IntakeStats()

    def accept(
        self, value: bytes | None, headers: Sequence[tuple[str, bytes]] | None, now_ns: int
    ) -> tuple[FrameMeta, np.ndarray] | None:
        """The frame a record carries as ``(meta, BGR image)``, or None when it is too old.

        Raises :class:`FrameRecordError` (counted in ``bad``) for a record that is not a frame.
        """
        meta = self.admit(headers, now_ns)
        return None if meta is None else (meta, self.decode(meta, value))

    def admit(self, headers: Sequence[tuple[str, bytes]] | None, now_ns: int) -> FrameMeta | None:
        """A record's frame from its headers alone, or None when it is too old: a frame that will
        be dropped is never decoded. Raises :class:`FrameRecordError` (counted in ``bad``)."""
        self.stats.received += 1
        try:
            meta = FrameMeta.from_headers(list(headers) if headers else None)
        except FrameRecordError:
            self.stats.bad += 1
            raise
        if self.max_age_ns and now_ns - meta.frame.stamp_ns > self.max_age_ns:
            self.stats.too_old += 1
            return None
        return meta

    def decode(self, meta: FrameMeta, value: bytes | None) -> np.ndarray:
        """The BGR image of an admitted frame. Raises :class:`FrameRecordError` (counted in ``bad``)."""
        try:
            image = decode_image(meta, value or b"")
        except FrameRecordError:
            self.stats.bad += 1
            raise
        self.stats.decoded += 1
        return image


@dataclass(frozen=True)
class Position:
    """Where a record sits in Kafka."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Sent:
    """A frame in the analysis chain: which, where from, since when (monotonic seconds)."""

    stamp_ns: int
    position: Position
    sent_s: float


class InFlight:
    """Each camera's frames published and not yet acknowledged, oldest first."""

    def __init__(self, limit: int, timeout_s: float) -> None:
        self.limit = limit
        self.timeout_s = timeout_s
        self._sent: dict[str, list[Sent]] = defaultdict(list)

    def __len__(self) -> int:
        return sum(len(sent) for sent in self._sent.values())

    def room(self, camera_id: str) -> int:
        """How many more of the camera's frames may be published now."""
        return self.limit - len(self._sent.get(camera_id, ()))

    def sent(self, frame: FrameRef, position: Position, now_s: float) -> None:
        self._sent[frame.camera_id].append(Sent(frame.stamp_ns, position, now_s))

    def acknowledged(self, frame: FrameRef) -> Position | None:
        """The record of an acknowledged frame, or None for a frame not waited for (an earlier
        run's, replayed by a transient-local publisher, or one given up)."""
        sent = self._sent.get(frame.camera_id, [])
        for k, item in enumerate(sent):
            if item.stamp_ns == frame.stamp_ns:
                del sent[k]
                return item.position
        return None

    def expired(self, now_s: float) -> list[Position]:
        """The records of frames unacknowledged for ``timeout_s``, no longer waited for."""
        given_up = []
        for camera_id, sent in self._sent.items():
            given_up += [s.position for s in sent if now_s - s.sent_s >= self.timeout_s]
            self._sent[camera_id] = [s for s in sent if now_s - s.sent_s < self.timeout_s]
        return given_up


class CommitTracker:
    """Per partition, the offset up to which every consumed record is done (acknowledged, dropped,
    unreadable): committing further would lose, if this server stopped, a frame still in its chain."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, int], dict[int, bool]] = {}
        """Per partition, consumed offsets in order -> done."""
        self._next: dict[tuple[str, int], int] = {}
        self._reported: dict[tuple[str, int], int] = {}

    def consumed(self, position: Position) -> None:
        key = (position.topic, position.partition)
        self._open.setdefault(key, {})[position.offset] = False
        self._next[key] = position.offset + 1

    def done(self, position: Position) -> None:
        offsets = self._open.get((position.topic, position.partition), {})
        if position.offset in offsets:
            offsets[position.offset] = True

    def to_commit(self) -> list[Position]:
        """The partitions whose commit position moved since the last call, at their new position
        (Kafka's: the next offset to consume)."""
        moved = []
        for key, offsets in self._open.items():
            while offsets and offsets[first := next(iter(offsets))]:
                del offsets[first]
            position = next(iter(offsets), self._next[key])
            if self._reported.get(key) != position:
                self._reported[key] = position
                moved.append(Position(*key, position))
        return moved

    def forget(self, topic: str, partition: int) -> None:
        """A partition revoked from this server: its new owner commits it from now on."""
        for table in (self._open, self._next, self._reported):
            table.pop((topic, partition), None)
