"""Server side of the frames topic: which consumed records become images (ROS-free).

Live uses (signage) want fresh frames: after a backlog (a slow server, a consumer that was
down), frames older than ``max_frame_age_s`` are skipped, counted, and never decoded: the age
comes from the headers, so skipping costs nothing. Analytics wants completeness: 0 keeps all.
Age is measured against this machine's clock from the camera's capture stamp, so the Pi and the
server must be time-synchronised (NTP/chrony), as every stamp in the graph already assumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
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
        self.stats.received += 1
        try:
            meta = FrameMeta.from_headers(list(headers) if headers else None)
            if self.max_age_ns and now_ns - meta.frame.stamp_ns > self.max_age_ns:
                self.stats.too_old += 1
                return None
            image = decode_image(meta, value or b"")
        except FrameRecordError:
            self.stats.bad += 1
            raise
        self.stats.decoded += 1
        return meta, image
