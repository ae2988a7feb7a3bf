"""Property tests of frame record decoding: any headers and payload a Kafka record can carry
either give a frame the rest of the graph can use, or one ``FrameRecordError`` (which
``frames_in`` counts and skips); any other exception would stop the consumer."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest
from face_common.faces import FrameRef
from face_common.images import MAX_IMAGE_PIXELS
from face_common.ros_msgs import frame_header, frame_ref
from hypothesis import given
from hypothesis import strategies as st
from kafka_bridge.frame_record import (
    ENCODINGS,
    MAX_STAMP_NS,
    FrameMeta,
    FrameRecordError,
    decode_image,
    encode_image,
)
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Header

NAMES = ("schema_version", "camera_id", "stamp_ns", "seq", "encoding", "width", "height")
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=10)
NUMBER_TEXT = st.integers().map(str) | st.sampled_from(["", " 7", "1e400", "0x10", "nan", "1_000", "-0"])


@st.composite
def header_lists(draw: st.DrawFn) -> list[tuple[str, bytes | None]]:
    """Headers near the real ones (each value replaced, dropped, duplicated or valueless) and far."""
    good = FrameMeta(FrameRef("cam", 1), 0, "jpeg", 64, 48).headers()
    headers: list[tuple[str, bytes | None]] = []
    for name, value in good:
        kind = draw(st.sampled_from(["keep", "keep", "number", "text", "bytes", "none", "drop"]))
        if kind == "keep":
            headers.append((name, value))
        elif kind == "number":
            headers.append((name, draw(NUMBER_TEXT).encode()))
        elif kind == "text":
            headers.append((name, draw(TEXT | st.sampled_from(ENCODINGS)).encode()))
        elif kind == "bytes":
            headers.append((name, draw(st.binary(max_size=8))))
        elif kind == "none":
            headers.append((name, None))
    extra = st.tuples(st.sampled_from(NAMES) | TEXT, st.none() | st.binary(max_size=8))
    return headers + draw(st.lists(extra, max_size=2))


@given(header_lists())
def test_headers_decode_or_are_refused(headers: list[tuple[str, bytes | None]]) -> None:
    try:
        meta = FrameMeta.from_headers(headers)
    except FrameRecordError:
        return
    assert meta.encoding in ENCODINGS
    assert 0 < meta.width * meta.height <= MAX_IMAGE_PIXELS and meta.width > 0
    wire = serialize_message(frame_header(meta.frame))  # frames_in republishes it as a ROS header
    assert frame_ref(deserialize_message(wire, Header)) == meta.frame
    assert FrameMeta.from_headers(meta.headers()) == meta


@given(
    TEXT,
    st.integers(0, MAX_STAMP_NS - 1),
    st.integers(),
    st.sampled_from(ENCODINGS),
    st.integers(1, 4000),
    st.integers(1, 4000),
)
def test_every_valid_meta_round_trips(
    camera_id: str, stamp_ns: int, seq: int, encoding: str, width: int, height: int
) -> None:
    meta = FrameMeta(FrameRef(camera_id, stamp_ns), seq, encoding, width, height)
    assert FrameMeta.from_headers(meta.headers()) == meta


def _picture(height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.dstack([x * 9, y * 7, (x + y) * 3]).astype(np.uint8)


@st.composite
def records(draw: st.DrawFn) -> tuple[FrameMeta, bytes]:
    """A good record, then maybe a wrong size in its headers, bytes overwritten or a cut payload."""
    encoding = draw(st.sampled_from(ENCODINGS))
    height, width = draw(st.integers(1, 20)), draw(st.integers(1, 20))
    image = _picture(height, width)
    payload = bytearray(encode_image(image[:, :, 0] if encoding == "mono8" else image, encoding))
    if draw(st.booleans()):
        width, height = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    for _ in range(draw(st.integers(0, 3))):
        payload[draw(st.integers(0, len(payload) - 1))] = draw(st.integers(0, 255))
    payload = payload[: draw(st.integers(0, len(payload)))] if draw(st.booleans()) else payload
    if draw(st.integers(0, 5)) == 0:
        payload = bytearray(draw(st.binary(max_size=200)))
    return FrameMeta(FrameRef("cam", 1), 0, encoding, width, height), bytes(payload)


@given(records())
def test_payload_decodes_to_the_headers_size_or_is_refused(record: tuple[FrameMeta, bytes]) -> None:
    meta, payload = record
    try:
        image = decode_image(meta, payload)
    except FrameRecordError:
        return
    assert image.shape == (meta.height, meta.width, 3) and image.dtype == np.uint8


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ([("schema_version", None)], "headers without a value: schema_version"),
        ([("stamp_ns", str(MAX_STAMP_NS).encode())], "capture stamp 2147483648000000000 ns is outside"),
        ([("stamp_ns", b"-1")], "capture stamp -1 ns is outside"),
        ([("width", b"0")], "frame size 0x48 is not 1 to"),
        ([("width", b"100000"), ("height", b"100000")], "frame size 100000x100000 is not 1 to"),
    ],
)
def test_bad_header_values_are_clear_errors(headers: list[tuple[str, bytes | None]], fragment: str) -> None:
    replaced = dict(FrameMeta(FrameRef("cam", 1), 0, "jpeg", 64, 48).headers()) | dict(headers)
    with pytest.raises(FrameRecordError, match=fragment):
        FrameMeta.from_headers(list(replaced.items()))


def test_jpeg_bigger_than_its_headers_is_refused_before_decoding() -> None:
    """A 700-byte JPEG whose header says 30000 x 30000: OpenCV would allocate 2.7 GB for it."""
    payload = bytearray(encode_image(_picture(16, 16), "jpeg"))
    sof = payload.index(b"\xff\xc0")
    payload[sof + 5 : sof + 9] = struct.pack(">HH", 30_000, 30_000)
    started = time.monotonic()
    with pytest.raises(FrameRecordError, match="JPEG is 30000x30000, headers say 16x16"):
        decode_image(FrameMeta(FrameRef("cam", 1), 0, "jpeg", 16, 16), bytes(payload))
    assert time.monotonic() - started < 1.0
