"""Image message <-> NumPy conversion: cv_bridge semantics, round trips, and every refusal."""

from __future__ import annotations

import array

import cv2
import numpy as np
import pytest
from face_common.images import (
    ImageConversionError,
    array_to_compressed_msg,
    array_to_image_msg,
    compressed_msg_to_array,
    image_msg_to_array,
)
from rclpy.serialization import serialize_message
from rosbags.typesys import Stores, get_typestore
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

HEIGHT, WIDTH = 48, 64


@pytest.fixture(scope="module")
def bgr() -> np.ndarray:
    """A smooth BGR test card: distinct channels, so a colour-order mistake shows."""
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, (HEIGHT // 8, WIDTH // 8, 3), dtype=np.uint8)
    return cv2.resize(noise, (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)


def as_encoding(bgr: np.ndarray, encoding: str) -> np.ndarray:
    return {
        "bgr8": bgr,
        "rgb8": bgr[:, :, ::-1].copy(),
        "mono8": cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY),
    }[encoding]


def raw_msg(encoding: str, height: int, width: int, step: int, data: bytes, bigendian: int = 0) -> Image:
    msg = Image()
    msg.height, msg.width, msg.encoding, msg.step, msg.is_bigendian = height, width, encoding, step, bigendian
    msg.data = array.array("B", data)
    return msg


@pytest.mark.parametrize("encoding", ["bgr8", "rgb8", "mono8"])
def test_round_trip_keeps_pixels_and_fields(bgr: np.ndarray, encoding: str) -> None:
    image = as_encoding(bgr, encoding)
    header = Header(frame_id="cam0")
    header.stamp.sec, header.stamp.nanosec = 12, 345
    msg = array_to_image_msg(image, encoding, header=header)
    channels = 1 if encoding == "mono8" else 3
    assert (msg.height, msg.width, msg.encoding, msg.step) == (HEIGHT, WIDTH, encoding, WIDTH * channels)
    assert msg.is_bigendian == 0
    assert len(msg.data) == HEIGHT * WIDTH * channels
    assert (msg.header.frame_id, msg.header.stamp.sec, msg.header.stamp.nanosec) == ("cam0", 12, 345)
    back = image_msg_to_array(msg, desired_encoding=encoding)
    np.testing.assert_array_equal(back, image)
    np.testing.assert_array_equal(image_msg_to_array(msg, desired_encoding="passthrough"), image)


@pytest.mark.parametrize(
    ("source", "desired"),
    [
        ("bgr8", "rgb8"),
        ("rgb8", "bgr8"),
        ("bgr8", "mono8"),
        ("rgb8", "mono8"),
        ("mono8", "bgr8"),
        ("mono8", "rgb8"),
    ],
)
def test_desired_encoding_converts_like_cv_bridge(bgr: np.ndarray, source: str, desired: str) -> None:
    msg = array_to_image_msg(as_encoding(bgr, source), source)
    out = image_msg_to_array(msg, desired_encoding=desired)
    if source == "mono8":
        gray = as_encoding(bgr, "mono8")
        np.testing.assert_array_equal(out, np.dstack([gray] * 3))
    else:
        np.testing.assert_array_equal(out, as_encoding(bgr, desired))


def test_default_desired_encoding_is_bgr8(bgr: np.ndarray) -> None:
    msg = array_to_image_msg(as_encoding(bgr, "rgb8"), "rgb8")
    np.testing.assert_array_equal(image_msg_to_array(msg), bgr)


@pytest.mark.parametrize(("encoding", "channels"), [("bgr8", 3), ("rgb8", 3), ("mono8", 1)])
@pytest.mark.parametrize("padding", [1, 3, 16])
def test_padded_rows_are_dropped(bgr: np.ndarray, encoding: str, channels: int, padding: int) -> None:
    image = as_encoding(bgr, encoding)
    rows = image.reshape(HEIGHT, WIDTH * channels)
    padded = np.hstack([rows, np.full((HEIGHT, padding), 255, np.uint8)])
    msg = raw_msg(encoding, HEIGHT, WIDTH, WIDTH * channels + padding, padded.tobytes())
    out = image_msg_to_array(msg, desired_encoding=encoding)
    np.testing.assert_array_equal(out, image)
    assert out.flags.c_contiguous


def test_is_bigendian_does_not_matter_for_8_bit(bgr: np.ndarray) -> None:
    msg = raw_msg("bgr8", HEIGHT, WIDTH, WIDTH * 3, bgr.tobytes(), bigendian=1)
    np.testing.assert_array_equal(image_msg_to_array(msg), bgr)


def test_result_owns_its_memory(bgr: np.ndarray) -> None:
    msg = array_to_image_msg(bgr, "bgr8")
    out = image_msg_to_array(msg)
    out[:] = 0
    np.testing.assert_array_equal(image_msg_to_array(msg), bgr)


def test_reads_messages_deserialized_by_rosbags(bgr: np.ndarray) -> None:
    """Bags are read with rosbags (no rclpy): its messages must convert the same way."""
    typestore = get_typestore(Stores.ROS2_KILTED)
    cdr = serialize_message(array_to_image_msg(bgr, "bgr8"))
    msg = typestore.deserialize_cdr(cdr, "sensor_msgs/msg/Image")
    np.testing.assert_array_equal(image_msg_to_array(msg), bgr)


ROW = WIDTH * 3
BAD_MESSAGES = [
    # (id, encoding, height, width, step, data length, message fragment)
    ("unsupported bgra8", "bgra8", HEIGHT, WIDTH, WIDTH * 4, HEIGHT * WIDTH * 4, "unsupported message"),
    ("unsupported 16UC1", "16UC1", HEIGHT, WIDTH, WIDTH * 2, HEIGHT * WIDTH * 2, "unsupported message"),
    ("step below row", "bgr8", HEIGHT, WIDTH, ROW - 1, HEIGHT * (ROW - 1), "step"),
    ("data too short", "bgr8", HEIGHT, WIDTH, ROW, HEIGHT * ROW - 1, "expected step"),
    ("data too long", "bgr8", HEIGHT, WIDTH, ROW, HEIGHT * ROW + 1, "expected step"),
    ("zero height", "bgr8", 0, WIDTH, ROW, 0, "empty image"),
    ("no data", "bgr8", HEIGHT, WIDTH, ROW, 0, "empty image"),
]


@pytest.mark.parametrize(
    ("encoding", "height", "width", "step", "size", "fragment"),
    [case[1:] for case in BAD_MESSAGES],
    ids=[case[0] for case in BAD_MESSAGES],
)
def test_bad_image_messages_are_refused(
    encoding: str, height: int, width: int, step: int, size: int, fragment: str
) -> None:
    msg = raw_msg(encoding, height, width, step, bytes(size))
    with pytest.raises(ImageConversionError, match=fragment):
        image_msg_to_array(msg)


def test_unsupported_desired_encoding_is_refused(bgr: np.ndarray) -> None:
    with pytest.raises(ImageConversionError, match="unsupported desired encoding 'yuv422'"):
        image_msg_to_array(array_to_image_msg(bgr, "bgr8"), desired_encoding="yuv422")


def test_conversion_error_is_a_value_error() -> None:
    assert issubclass(ImageConversionError, ValueError)


BAD_ARRAYS = [
    ("float image", np.zeros((4, 4, 3), np.float32), "bgr8", "uint8"),
    ("grey labelled bgr8", np.zeros((4, 4), np.uint8), "bgr8", "3 channel"),
    ("colour labelled mono8", np.zeros((4, 4, 3), np.uint8), "mono8", "1 channel"),
    ("four channels", np.zeros((4, 4, 4), np.uint8), "rgb8", "3 channel"),
    ("empty array", np.zeros((0, 4, 3), np.uint8), "bgr8", "empty"),
    ("unsupported encoding", np.zeros((4, 4, 4), np.uint8), "bgra8", "unsupported target encoding"),
    ("not an array", [[1, 2], [3, 4]], "mono8", "NumPy array"),
]


@pytest.mark.parametrize(
    ("image", "encoding", "fragment"), [c[1:] for c in BAD_ARRAYS], ids=[c[0] for c in BAD_ARRAYS]
)
def test_bad_arrays_are_refused(image: np.ndarray, encoding: str, fragment: str) -> None:
    with pytest.raises(ImageConversionError, match=fragment):
        array_to_image_msg(image, encoding)


@pytest.mark.parametrize(
    ("fmt", "grey", "max_error", "format_field"),
    [
        ("jpeg", False, 4.0, "bgr8; jpeg compressed bgr8"),
        ("jpg", False, 4.0, "bgr8; jpeg compressed bgr8"),
        ("png", False, 0.0, "bgr8; png compressed bgr8"),
        ("jpeg", True, 4.0, "mono8; jpeg compressed mono8"),
        ("png", True, 0.0, "mono8; png compressed mono8"),
    ],
)
def test_compressed_round_trip(
    bgr: np.ndarray, fmt: str, grey: bool, max_error: float, format_field: str
) -> None:
    image = as_encoding(bgr, "mono8") if grey else bgr
    msg = array_to_compressed_msg(image, fmt=fmt, quality=95, header=Header(frame_id="cam1"))
    assert isinstance(msg, CompressedImage)
    assert msg.format == format_field
    assert msg.header.frame_id == "cam1"
    out = compressed_msg_to_array(msg, desired_encoding="mono8" if grey else "bgr8")
    assert out.shape == image.shape
    assert np.abs(out.astype(int) - image.astype(int)).mean() <= max_error


@pytest.mark.parametrize("desired", ["rgb8", "mono8", "passthrough"])
def test_compressed_desired_encoding(bgr: np.ndarray, desired: str) -> None:
    msg = array_to_compressed_msg(bgr, fmt="png")
    expected = bgr if desired == "passthrough" else as_encoding(bgr, desired)
    np.testing.assert_array_equal(compressed_msg_to_array(msg, desired_encoding=desired), expected)


def test_jpeg_quality_changes_size(bgr: np.ndarray) -> None:
    small = array_to_compressed_msg(bgr, quality=10)
    large = array_to_compressed_msg(bgr, quality=100)
    assert len(small.data) < len(large.data)


def jpeg_bytes(bgr: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", bgr)[1].tobytes()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty compressed image"),
        (b"not a jpeg at all" * 20, "cannot decode"),
        ("truncated", "cannot decode"),
        ("zeroed header", "cannot decode"),
    ],
)
def test_corrupt_compressed_images_are_refused(bgr: np.ndarray, data: bytes | str, fragment: str) -> None:
    good = jpeg_bytes(bgr)
    payload = {"truncated": good[: len(good) // 2], "zeroed header": bytes(64) + good[64:]}.get(data, data)
    msg = CompressedImage(format="jpeg")
    msg.data = array.array("B", payload)
    with pytest.raises(ImageConversionError, match=fragment):
        compressed_msg_to_array(msg)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"fmt": "webp"}, "unsupported compressed format"),
        ({"quality": 101}, "quality"),
        ({"quality": -1}, "quality"),
    ],
)
def test_bad_compression_requests_are_refused(bgr: np.ndarray, kwargs: dict, fragment: str) -> None:
    with pytest.raises(ImageConversionError, match=fragment):
        array_to_compressed_msg(bgr, **kwargs)


def test_compressing_a_float_array_is_refused() -> None:
    with pytest.raises(ImageConversionError, match="uint8"):
        array_to_compressed_msg(np.zeros((8, 8, 3), np.float64))
