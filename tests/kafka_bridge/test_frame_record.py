import cv2
import numpy as np
import pytest
from face_common.faces import FrameRef
from kafka_bridge.frame_record import (
    FrameMeta,
    FrameRecordError,
    decode_image,
    encode_image,
    source_encoding,
)

META = FrameMeta(
    FrameRef("till-1", 1_764_000_000_000_000_001), seq=42, encoding="jpeg", width=1280, height=720
)


def test_headers_round_trip() -> None:
    assert FrameMeta.from_headers(META.headers()) == META


def _without(name: str) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in META.headers() if k != name]


def _with(name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [(k, value if k == name else v) for k, v in META.headers()]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (None, "lacks header 'schema_version'"),
        (_without("camera_id"), "lacks header 'camera_id'"),
        (_with("schema_version", b"2"), "schema version 2"),
        (_with("encoding", b"h264"), "unknown frame encoding 'h264'"),
        (_with("width", b"wide"), "malformed header"),
    ],
)
def test_bad_headers_are_clear_errors(headers: list[tuple[str, bytes]] | None, message: str) -> None:
    with pytest.raises(FrameRecordError, match=message):
        FrameMeta.from_headers(headers)


def _test_image() -> np.ndarray:
    """A smooth BGR picture (JPEG-friendly) with distinct channels, 64 x 48."""
    y, x = np.mgrid[0:48, 0:64]
    return np.dstack([x * 4, y * 5, (x + y) * 2]).astype(np.uint8)


@pytest.mark.parametrize(
    ("encoding", "payload_bytes", "max_error"),
    [("bgr8", 64 * 48 * 3, 0), ("mono8", 64 * 48, 0), ("jpeg", None, 12)],
)
def test_payload_round_trip(encoding: str, payload_bytes: int | None, max_error: int) -> None:
    image = _test_image()
    source = image if source_encoding(encoding) == "bgr8" else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    payload = encode_image(source, encoding, jpeg_quality=90)
    if payload_bytes is not None:
        assert len(payload) == payload_bytes
    meta = FrameMeta(FrameRef("cam", 1), 0, encoding, 64, 48)
    decoded = decode_image(meta, payload)
    assert decoded.shape == (48, 64, 3) and decoded.dtype == np.uint8
    expected = image if encoding != "mono8" else cv2.cvtColor(source, cv2.COLOR_GRAY2BGR)
    assert np.abs(decoded.astype(int) - expected).max() <= max_error


def test_jpeg_is_much_smaller_than_raw() -> None:
    image = np.repeat(np.repeat(_test_image(), 10, axis=0), 10, axis=1)
    assert len(encode_image(image, "jpeg", 85)) * 10 < len(encode_image(image, "bgr8"))


@pytest.mark.parametrize(
    ("meta", "payload", "message"),
    [
        (
            FrameMeta(FrameRef("c", 1), 0, "jpeg", 64, 48),
            b"\xff\xd8 not really a jpeg",
            "corrupt or truncated JPEG",
        ),
        (FrameMeta(FrameRef("c", 1), 0, "jpeg", 64, 48), b"", "corrupt or truncated JPEG"),
        (FrameMeta(FrameRef("c", 1), 0, "jpeg", 32, 48), None, "JPEG is 64x48, headers say 32x48"),
        (
            FrameMeta(FrameRef("c", 1), 0, "bgr8", 64, 48),
            bytes(100),
            "bgr8 payload has 100 bytes, 64x48 needs 9216",
        ),
        (FrameMeta(FrameRef("c", 1), 0, "mono8", 0, 48), b"", "mono8 payload has 0 bytes"),
    ],
)
def test_bad_payloads_are_clear_errors(meta: FrameMeta, payload: bytes | None, message: str) -> None:
    if payload is None:
        payload = encode_image(_test_image(), "jpeg")
    with pytest.raises(FrameRecordError, match=message):
        decode_image(meta, payload)


@pytest.mark.parametrize(
    ("image", "encoding", "quality", "message"),
    [
        (np.zeros((4, 4, 3), np.uint8), "png", 85, "unknown frame encoding 'png'"),
        (np.zeros((4, 4, 3), np.uint8), "jpeg", 0, "JPEG quality must be in 1..100"),
        (np.zeros((4, 4, 3), np.uint8), "mono8", 85, "mono8 needs a uint8 array with 1 channel"),
        (np.zeros((4, 4), np.float32), "mono8", 85, "got float32"),
    ],
)
def test_bad_images_are_clear_errors(image: np.ndarray, encoding: str, quality: int, message: str) -> None:
    with pytest.raises(FrameRecordError, match=message):
        encode_image(image, encoding, quality)
