"""How one camera frame is laid out as a Kafka record (ROS-free, shared by both bridge ends).

The record key is the camera id, so one camera's frames stay in order on one partition; the
value is the encoded image; the headers carry everything needed to rebuild the ROS header and
to check the payload before decoding it, or to skip a stale frame without decoding it.

Payloads: ``jpeg`` (a JPEG file of the BGR or grey image, the default: about 20x smaller than raw
at 720p), ``mono8`` (raw grey rows, as the seed system sent) or ``bgr8`` (raw colour rows).

Anything a record carries may be wrong: every header and payload is checked (a stamp a ROS header
can hold, a size of 1 to ``MAX_IMAGE_PIXELS`` pixels, a JPEG whose own header matches that size
before it is decoded), and every refusal is one :class:`FrameRecordError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from face_common.faces import FrameRef
from face_common.images import MAX_IMAGE_PIXELS, compressed_image_size
from face_common.settings import setting

from kafka_bridge.connection import KafkaSettings
from kafka_bridge.topics import FRAMES_TOPIC

SCHEMA_VERSION = 1
ENCODINGS = ("jpeg", "mono8", "bgr8")
RAW_CHANNELS = {"mono8": 1, "bgr8": 3}
MAX_STAMP_NS = 2**31 * 1_000_000_000
"""Capture stamps run from the epoch up to what a ROS header's int32 seconds hold."""


@dataclass(frozen=True)
class FramesOutSettings(KafkaSettings):
    """``frames_out``: how a camera's frames are encoded and how long they may wait for the broker."""

    topic: str = setting(FRAMES_TOPIC, "Kafka topic of the frames")
    camera_id: str = setting("", "Record key; empty: each image's header frame_id")
    encoding: str = setting("jpeg", "Frame payload", choices=ENCODINGS)
    jpeg_quality: int = setting(85, "JPEG quality (q85: ~9.4 Mbit/s at 720p 12 fps)", 1, 100)
    queue_frames: int = setting(24, "Frames kept locally while the broker is away", 1, 100_000)
    max_in_flight: int = setting(12, "Frames handed to the Kafka client at once", 1, 100_000)
    delivery_timeout_s: float = setting(5.0, "A frame not acknowledged by then counts as lost", 0.001, 3600.0)


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
    def from_headers(cls, headers: list[tuple[str, bytes | None]] | None) -> FrameMeta:
        """The headers' metadata; :class:`FrameRecordError` for a missing, valueless or bad one."""
        values = {name: value for name, value in headers or []}
        try:
            valueless = sorted(name for name, value in values.items() if not isinstance(value, bytes))
            if valueless:
                raise FrameRecordError(f"frame record headers without a value: {', '.join(valueless)}")
            text = {name: value.decode(errors="replace") for name, value in values.items()}
            version = int(text["schema_version"])
            if version != SCHEMA_VERSION:
                raise FrameRecordError(f"frame schema version {version}, this bridge reads {SCHEMA_VERSION}")
            encoding = text["encoding"]
            if encoding not in ENCODINGS:
                raise FrameRecordError(f"unknown frame encoding {encoding!r}; known: {', '.join(ENCODINGS)}")
            meta = cls(
                frame=FrameRef(text["camera_id"], int(text["stamp_ns"])),
                seq=int(text["seq"]),
                encoding=encoding,
                width=int(text["width"]),
                height=int(text["height"]),
            )
        except KeyError as missing:
            raise FrameRecordError(f"frame record lacks header {missing}") from None
        except ValueError as bad:
            if isinstance(bad, FrameRecordError):
                raise
            raise FrameRecordError(f"frame record has a malformed header: {bad}") from None
        if not 0 <= meta.frame.stamp_ns < MAX_STAMP_NS:
            raise FrameRecordError(f"capture stamp {meta.frame.stamp_ns} ns is outside 0..{MAX_STAMP_NS}")
        if meta.width <= 0 or meta.height <= 0 or meta.width * meta.height > MAX_IMAGE_PIXELS:
            raise FrameRecordError(
                f"frame size {meta.width}x{meta.height} is not 1 to {MAX_IMAGE_PIXELS} pixels"
            )
        return meta


def source_encoding(encoding: str) -> str:
    """The array encoding a frame must be in before :func:`encode_image` (grey for ``mono8``)."""
    return "mono8" if encoding == "mono8" else "bgr8"


def encode_image(image: np.ndarray, encoding: str, jpeg_quality: int = 85) -> bytes:
    """The record value for ``image`` (BGR ``H x W x 3`` or grey ``H x W``, uint8) as ``encoding``."""
    if encoding not in ENCODINGS:
        raise FrameRecordError(f"unknown frame encoding {encoding!r}; known: {', '.join(ENCODINGS)}")
    if encoding == "jpeg":
        if not 1 <= jpeg_quality <= 100:
            raise FrameRecordError(f"JPEG quality must be in 1..100, got {jpeg_quality}")
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        if not ok:
            raise FrameRecordError(f"OpenCV could not encode a {image.shape} array as JPEG")
        return encoded.tobytes()
    channels = 1 if image.ndim == 2 else image.shape[2]
    if channels != RAW_CHANNELS[encoding] or image.dtype != np.uint8:
        raise FrameRecordError(
            f"{encoding} needs a uint8 array with {RAW_CHANNELS[encoding]} channel(s), "
            f"got {image.dtype} {image.shape}"
        )
    return np.ascontiguousarray(image).tobytes()


def decode_image(meta: FrameMeta, payload: bytes) -> np.ndarray:
    """The BGR (``H x W x 3``) image a record carries, checked against its headers' size.

    A ``bgr8`` payload comes back as a read-only view of ``payload`` (no copy of 2.7 MB per frame).
    """
    if meta.encoding == "jpeg":
        size = compressed_image_size(payload)
        if size is not None and size != (meta.width, meta.height):
            raise FrameRecordError(f"JPEG is {size[0]}x{size[1]}, headers say {meta.width}x{meta.height}")
        image = cv2.imdecode(np.frombuffer(payload, np.uint8), cv2.IMREAD_COLOR) if size else None
        if image is None:
            raise FrameRecordError(f"corrupt or truncated JPEG payload ({len(payload)} bytes)")
        if image.shape[:2] != (meta.height, meta.width):  # turned by an EXIF orientation tag
            raise FrameRecordError(
                f"JPEG is {image.shape[1]}x{image.shape[0]}, headers say {meta.width}x{meta.height}"
            )
        return image
    channels = RAW_CHANNELS[meta.encoding]
    expected = meta.width * meta.height * channels
    if meta.width <= 0 or meta.height <= 0 or len(payload) != expected:
        raise FrameRecordError(
            f"{meta.encoding} payload has {len(payload)} bytes, {meta.width}x{meta.height} needs {expected}"
        )
    pixels = np.frombuffer(payload, np.uint8)
    if channels == 1:
        return cv2.cvtColor(pixels.reshape(meta.height, meta.width), cv2.COLOR_GRAY2BGR)
    return pixels.reshape(meta.height, meta.width, 3)
