"""Property tests of image conversion: any message or array either converts faithfully or is
refused with ``ImageConversionError``, never another exception (which would kill a node)."""

from __future__ import annotations

import array
import struct
import time
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from face_common.images import (
    CHANNELS,
    MAX_IMAGE_PIXELS,
    ImageConversionError,
    array_to_compressed_msg,
    array_to_image_msg,
    compressed_image_size,
    compressed_msg_to_array,
    decode_image_file,
    image_msg_to_array,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sensor_msgs.msg import CompressedImage, Image

UINT32 = st.integers(0, 2**32 - 1)
ENCODINGS = st.sampled_from([*CHANNELS, "bgra8", "16UC1", "8UC3", ""]) | st.text(max_size=8)
DESIRED = st.sampled_from([*CHANNELS, "passthrough", "yuv422"])


def _image_msg(encoding: str, height: int, width: int, step: int, data: bytes) -> Image:
    msg = Image(encoding=encoding, height=height, width=width, step=step)
    msg.data = array.array("B", data)
    return msg


@st.composite
def raw_messages(draw: st.DrawFn) -> Image:
    """Image messages near the valid ones (small sizes, padded rows, data off by a few bytes)
    and far from them (any uint32 size and step, any encoding)."""
    encoding = draw(ENCODINGS)
    if draw(st.booleans()):
        return _image_msg(encoding, draw(UINT32), draw(UINT32), draw(UINT32), draw(st.binary(max_size=64)))
    height, width = draw(st.integers(0, 12)), draw(st.integers(0, 12))
    step = width * CHANNELS.get(encoding, 2) + draw(st.integers(-2, 5))
    size = max(0, step * height + draw(st.sampled_from([0, 0, 0, -1, 1])))
    return _image_msg(encoding, height, width, max(0, step), draw(st.binary(min_size=size, max_size=size)))


@given(raw_messages(), DESIRED)
def test_image_message_converts_or_is_refused(msg: Image, desired: str) -> None:
    try:
        image = image_msg_to_array(msg, desired)
    except ImageConversionError:
        return
    channels = CHANNELS[msg.encoding]
    rows = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.step)[:, : msg.width * channels]
    assert image.dtype == np.uint8 and image.flags.c_contiguous
    out_channels = CHANNELS.get(desired, channels)
    assert image.shape == ((msg.height, msg.width) if out_channels == 1 else (msg.height, msg.width, 3))
    if desired in (msg.encoding, "passthrough"):
        np.testing.assert_array_equal(image.reshape(msg.height, -1), rows)


@given(
    hnp.arrays(
        st.sampled_from([np.uint8, np.uint16, np.float32, np.int8, np.bool_]),
        hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
    ),
    ENCODINGS,
)
def test_array_round_trips_or_is_refused(image: np.ndarray, encoding: str) -> None:
    try:
        msg = array_to_image_msg(image, encoding)
    except ImageConversionError:
        return
    assert image.dtype == np.uint8 and image.size > 0
    expected = image.reshape(msg.height, msg.width) if encoding == "mono8" else image
    np.testing.assert_array_equal(image_msg_to_array(msg, "passthrough"), expected)


@given(st.lists(st.integers(-3, 300), min_size=1, max_size=12))
def test_data_as_a_list_of_ints_is_bytes_or_refused(values: list[int]) -> None:
    """``rosbags`` and hand-made messages may carry ``data`` as a list: out-of-range ints are refused."""
    msg = SimpleNamespace(encoding="mono8", height=1, width=len(values), step=len(values), data=values)
    try:
        image = image_msg_to_array(msg, "passthrough")
    except ImageConversionError:
        assert not all(0 <= v < 256 for v in values)
        return
    assert image.tolist() == [values]


def _encoded(fmt: str, height: int, width: int, grey: bool) -> bytes:
    y, x = np.mgrid[0:height, 0:width]
    image = np.dstack([x * 9, y * 7, (x + y) * 3]).astype(np.uint8)
    if grey:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return bytes(array_to_compressed_msg(image, fmt).data)


@st.composite
def compressed_bytes(draw: st.DrawFn) -> bytes:
    """Arbitrary bytes, and good JPEG/PNG files truncated, with bytes overwritten, or both."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    fmt = draw(st.sampled_from(["jpeg", "png"]))
    data = bytearray(_encoded(fmt, draw(st.integers(1, 24)), draw(st.integers(1, 24)), draw(st.booleans())))
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))])


@given(compressed_bytes(), DESIRED)
def test_compressed_image_decodes_or_is_refused(data: bytes, desired: str) -> None:
    msg = CompressedImage(format="jpeg")
    msg.data = array.array("B", data)
    try:
        image = compressed_msg_to_array(msg, desired)
    except ImageConversionError:
        return
    assert image.dtype == np.uint8 and 0 < image.shape[0] * image.shape[1] <= MAX_IMAGE_PIXELS
    assert image.ndim == 2 or image.shape[2] == 3
    assert compressed_image_size(data) is not None


OTHER_FORMATS = st.builds(bytes.__add__, st.sampled_from([b"BM", b"P5\n", b"II*\0"]), st.binary())
"""BMP, PGM and TIFF magic numbers followed by anything."""


@given(compressed_bytes() | OTHER_FORMATS)
def test_image_file_decodes_or_is_refused(data: bytes) -> None:
    """Image files (``camera_node``'s folders) may be any format OpenCV reads: BMP, PGM, TIFF..."""
    try:
        image = decode_image_file(data, "file")
    except ImageConversionError:
        return
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


@given(st.sampled_from(["jpeg", "png"]), st.integers(1, 40), st.integers(1, 40), st.booleans())
def test_header_size_is_the_decoded_size(fmt: str, height: int, width: int, grey: bool) -> None:
    assert compressed_image_size(_encoded(fmt, height, width, grey)) == (width, height)


def _with_size(fmt: str, width: int, height: int) -> bytes:
    """A small valid JPEG or PNG whose header claims ``width`` x ``height``."""
    data = bytearray(_encoded(fmt, 16, 16, grey=False))
    if fmt == "png":
        data[16:24] = struct.pack(">II", width, height)
    else:
        sof = data.index(b"\xff\xc0")
        data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_decompression_bomb_is_refused_before_decoding(fmt: str) -> None:
    """OpenCV would allocate 2.7 GB (and take ~10 s) for this 30000 x 30000 header on ~700 bytes."""
    msg = CompressedImage(format=fmt)
    msg.data = array.array("B", _with_size(fmt, 30_000, 30_000))
    started = time.monotonic()
    with pytest.raises(ImageConversionError, match="30000x30000, more than the 33177600 pixels"):
        compressed_msg_to_array(msg)
    assert time.monotonic() - started < 1.0


def test_huge_raw_frame_is_refused() -> None:
    msg = SimpleNamespace(encoding="mono8", height=1, width=MAX_IMAGE_PIXELS + 1, step=MAX_IMAGE_PIXELS + 1)
    msg.data = b"\0" * msg.step
    with pytest.raises(ImageConversionError, match="more than the 33177600 pixels"):
        image_msg_to_array(msg)
