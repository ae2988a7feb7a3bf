"""How one camera frame is laid out as a Kafka record (ROS-free, shared by both bridge ends).

The record key is the camera id, so one camera's frames stay in order on one partition; the
value is the encoded image; the headers carry everything needed to rebuild the ROS header and
to check the payload before decoding it.
"""

from __future__ import annotations

from dataclasses import dataclass

from face_common.faces import FrameRef

SCHEMA_VERSION = 1
ENCODINGS = ("jpeg", "mono8", "bgr8")


class FrameRecordError(ValueError):
    """A Kafka record that is not a frame this bridge can read."""


@dataclass(frozen=True)
class FrameMeta:
    """What travels in a frame record's headers."""

    frame: FrameRef
    seq: int
    encoding: str
    width: int
    height: int

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers (UTF-8 text values, readable with any Kafka tool)."""
        fields = {
            "schema_version": SCHEMA_VERSION,
            "camera_id": self.frame.camera_id,
            "stamp_ns": self.frame.stamp_ns,
            "seq": self.seq,
            "encoding": self.encoding,
            "width": self.width,
            "height": self.height,
        }
        return [(name, str(value).encode()) for name, value in fields.items()]

    @classmethod
    def from_headers(cls, headers: list[tuple[str, bytes]] | None) -> FrameMeta:
        values = {name: value.decode(errors="replace") for name, value in headers or []}
        try:
            version = int(values["schema_version"])
            if version != SCHEMA_VERSION:
                raise FrameRecordError(f"frame schema version {version}, this bridge reads {SCHEMA_VERSION}")
            encoding = values["encoding"]
            if encoding not in ENCODINGS:
                raise FrameRecordError(f"unknown frame encoding {encoding!r}; known: {', '.join(ENCODINGS)}")
            return cls(
                frame=FrameRef(values["camera_id"], int(values["stamp_ns"])),
                seq=int(values["seq"]),
                encoding=encoding,
                width=int(values["width"]),
                height=int(values["height"]),
            )
        except KeyError as missing:
            raise FrameRecordError(f"frame record lacks header {missing}") from None
        except ValueError as bad:
            if isinstance(bad, FrameRecordError):
                raise
            raise FrameRecordError(f"frame record has a malformed header: {bad}") from None
