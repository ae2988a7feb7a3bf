"""Conversion between ``sensor_msgs/Image`` / ``CompressedImage`` and NumPy arrays.

The semantics are those of ROS 2's ``cv_bridge`` (``imgmsg_to_cv2`` / ``cv2_to_imgmsg`` and their
compressed twins): arrays are OpenCV-style (``H x W x 3`` for colour, ``H x W`` for ``mono8``),
``desired_encoding`` converts colour order or to/from grey, row padding (``step`` larger than
``width * channels``) is dropped, and ``is_bigendian`` is irrelevant for 8-bit samples. The real
``cv_bridge`` is used when importable (a full ROS 2 install); the ROS wheels from PyPI have none,
and PyPI's ``cv-bridge`` is the ROS 1 package, so the same rules are implemented here for the
encodings the graph uses: ``bgr8``, ``rgb8``, ``mono8`` (JPEG or PNG when compressed).

Reading a message only touches its fields, so the ``*_to_array`` functions also take messages
deserialized by ``rosbags`` and need no rclpy. Unlike ``cv_bridge``, a message whose ``data`` length
is not exactly ``step * height`` is rejected: a truncated frame must not become a shifted image.
Frames over :data:`MAX_IMAGE_PIXELS` are rejected too, and a compressed image's size is read from
its JPEG/PNG header before decoding: a few hundred crafted bytes must not make the decoder allocate
gigabytes. Every refusal is an :class:`ImageConversionError` (a ``ValueError``).
"""

from __future__ import annotations

import array
import struct
import sys
from typing import Any

import cv2
import numpy as np

try:  # A full ROS 2 install ships cv_bridge; prefer the reference implementation there.
    from cv_bridge import CvBridge, CvBridgeError
except ImportError:
    CvBridge = None
    CvBridgeError = None

CHANNELS = {"bgr8": 3, "rgb8": 3, "mono8": 1}
"""Supported raw encodings and their channel counts (all 8-bit)."""

PASSTHROUGH = "passthrough"
COMPRESSED_FORMATS = {"jpeg": ".jpg", "jpg": ".jpg", "png": ".png"}
MAX_IMAGE_PIXELS = 7680 * 4320
"""Largest frame accepted (8K UHD): more than any camera here, far less than a decoder bomb."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
"""Start-of-frame markers (baseline, progressive, lossless, arithmetic); C4/C8/CC are not frames."""
_JPEG_STANDALONE_MARKERS = frozenset([0x01, *range(0xD0, 0xD9)])
"""Markers without a length field (TEM, RST0-7, SOI)."""

_COLOR_CONVERSIONS = {
    ("bgr8", "rgb8"): cv2.COLOR_BGR2RGB,
    ("rgb8", "bgr8"): cv2.COLOR_RGB2BGR,
    ("bgr8", "mono8"): cv2.COLOR_BGR2GRAY,
    ("rgb8", "mono8"): cv2.COLOR_RGB2GRAY,
    ("mono8", "bgr8"): cv2.COLOR_GRAY2BGR,
    ("mono8", "rgb8"): cv2.COLOR_GRAY2RGB,
}

_BRIDGE = CvBridge() if CvBridge is not None else None


class ImageConversionError(ValueError):
    """An image message or array that cannot be converted (bad encoding, size, or data)."""


def _check_encoding(encoding: str, role: str, allow_passthrough: bool = False) -> None:
    if encoding in CHANNELS or (allow_passthrough and encoding == PASSTHROUGH):
        return
    accepted = sorted(CHANNELS) + ([PASSTHROUGH] if allow_passthrough else [])
    raise ImageConversionError(f"unsupported {role} encoding {encoding!r}; supported: {', '.join(accepted)}")


def _buffer_bytes(data: Any) -> np.ndarray:
    """The message's ``data`` as a flat uint8 array (bytes, array.array, NumPy, or a list)."""
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except (TypeError, ValueError):
        pass
    try:
        return np.asarray(data, dtype=np.uint8).reshape(-1)
    except (TypeError, ValueError, OverflowError) as err:  # a list holding 256, -1 or text
        raise ImageConversionError(f"image data is not a sequence of bytes: {err}") from None


def _check_pixels(width: int, height: int, what: str) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageConversionError(
            f"{what} is {width}x{height}, more than the {MAX_IMAGE_PIXELS} pixels accepted"
        )


def compressed_image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a JPEG's start-of-frame or a PNG's IHDR header, without decoding;
    None for anything else (not JPEG/PNG, or no frame header before the image data)."""
    if data[:8] == _PNG_SIGNATURE and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
        elif marker in _JPEG_STANDALONE_MARKERS:
            pos += 2
        elif marker in _JPEG_SOF_MARKERS:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        elif marker == 0xDA:  # start of scan: image data with no frame header before it
            return None
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def _convert(image: np.ndarray, source: str, desired: str) -> np.ndarray:
    """``image`` (in ``source`` encoding) as a new C-contiguous array in ``desired``."""
    if desired in (source, PASSTHROUGH):
        return image.copy()
    return cv2.cvtColor(image, _COLOR_CONVERSIONS[(source, desired)])


def image_msg_to_array(msg: Any, desired_encoding: str = "bgr8") -> np.ndarray:
    """A ``sensor_msgs/Image`` as an array that owns its memory, in ``desired_encoding``.

    ``desired_encoding`` is ``bgr8``, ``rgb8``, ``mono8`` or ``passthrough`` (the message's own).
    """
    encoding = str(msg.encoding)
    _check_encoding(encoding, "message")
    _check_encoding(desired_encoding, "desired", allow_passthrough=True)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    channels = CHANNELS[encoding]
    flat = _buffer_bytes(msg.data)
    if height <= 0 or width <= 0 or flat.size == 0:
        raise ImageConversionError(f"empty image: {width}x{height}, {flat.size} data bytes")
    _check_pixels(width, height, "image")
    row_bytes = width * channels
    if step < row_bytes:
        raise ImageConversionError(
            f"step {step} is smaller than width {width} x {channels} channels = {row_bytes} bytes"
        )
    if flat.size != step * height:
        raise ImageConversionError(
            f"data has {flat.size} bytes, expected step {step} x height {height} = {step * height}"
        )
    if _BRIDGE is not None:
        try:
            return np.array(_BRIDGE.imgmsg_to_cv2(msg, desired_encoding=desired_encoding), order="C")
        except CvBridgeError as err:
            raise ImageConversionError(str(err)) from err
    rows = flat.reshape(height, step)[:, :row_bytes]
    shape = (height, width) if channels == 1 else (height, width, channels)
    return _convert(np.ascontiguousarray(rows.reshape(shape)), encoding, desired_encoding)


def _check_array(image: np.ndarray, encoding: str) -> None:
    if not isinstance(image, np.ndarray):
        raise ImageConversionError(f"expected a NumPy array, got {type(image).__name__}")
    if image.size == 0:
        raise ImageConversionError(f"empty image array of shape {image.shape}")
    if image.dtype != np.uint8:
        raise ImageConversionError(f"encoding {encoding} needs a uint8 array, got {image.dtype}")
    channels = 1 if image.ndim == 2 else (image.shape[2] if image.ndim == 3 else -1)
    if channels != CHANNELS[encoding]:
        raise ImageConversionError(
            f"encoding {encoding} needs {CHANNELS[encoding]} channel(s), got an array of shape {image.shape}"
        )


def array_to_image_msg(image: np.ndarray, encoding: str, header: Any = None) -> Any:
    """A ``sensor_msgs/Image`` holding ``image`` labelled as ``encoding`` (no colour conversion).

    As ``cv2_to_imgmsg``: the array must already be in ``encoding``; rows are packed (``step`` =
    ``width * channels``) and ``is_bigendian`` follows this machine.
    """
    from sensor_msgs.msg import Image  # Lazy: reading messages must work without rclpy.

    _check_encoding(encoding, "target")
    _check_array(image, encoding)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if _BRIDGE is not None:
        msg = _BRIDGE.cv2_to_imgmsg(np.ascontiguousarray(image), encoding=encoding)
    else:
        msg = Image()
        msg.height, msg.width = int(image.shape[0]), int(image.shape[1])
        msg.encoding = encoding
        msg.is_bigendian = int(sys.byteorder == "big")
        msg.step = msg.width * CHANNELS[encoding]
        data = array.array("B")
        data.frombytes(np.ascontiguousarray(image))  # one copy; the setter skips per-byte checks
        msg.data = data
    if header is not None:
        msg.header = header
    return msg


def decode_image_file(data: Any, what: str, desired_encoding: str = "bgr8") -> np.ndarray:
    """The image an image file's bytes hold (JPEG, PNG or another format OpenCV reads) in
    ``desired_encoding``; ``what`` names it in errors. A JPEG/PNG's size is checked before decoding.

    Unlike ``cv2.imread``, which returns a truncated JPEG with its missing rows grey, a file that
    does not decode whole is refused.
    """
    _check_encoding(desired_encoding, "desired", allow_passthrough=True)
    flat = _buffer_bytes(data)
    if flat.size == 0:
        raise ImageConversionError(f"empty {what}")
    size = compressed_image_size(flat.tobytes())
    if size is not None:
        _check_pixels(*size, what)
    image = cv2.imdecode(flat, cv2.IMREAD_ANYCOLOR)
    if image is None or image.size == 0:
        raise ImageConversionError(
            f"cannot decode {what} ({flat.size} bytes): corrupt, truncated, or not an image"
        )
    if image.dtype != np.uint8:
        raise ImageConversionError(f"{what} decodes to {image.dtype}, only 8-bit is supported")
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    decoded = "mono8" if image.ndim == 2 else "bgr8"
    return image if desired_encoding in (decoded, PASSTHROUGH) else _convert(image, decoded, desired_encoding)


def compressed_msg_to_array(msg: Any, desired_encoding: str = "bgr8") -> np.ndarray:
    """A decoded ``sensor_msgs/CompressedImage`` (JPEG or PNG) in ``desired_encoding``.

    ``passthrough`` keeps what the decoder yields (BGR for colour, one channel for grey).
    """
    what = f"compressed image (format {msg.format!r})"
    flat = _buffer_bytes(msg.data)
    if flat.size and compressed_image_size(flat.tobytes()) is None:
        raise ImageConversionError(f"cannot decode {what} ({flat.size} bytes): not JPEG/PNG, or truncated")
    return decode_image_file(flat, what, desired_encoding)


def array_to_compressed_msg(
    image: np.ndarray, fmt: str = "jpeg", quality: int = 90, header: Any = None
) -> Any:
    """A ``sensor_msgs/CompressedImage`` of a BGR (``H x W x 3``) or grey (``H x W``) array.

    ``format`` follows ``image_transport``'s compressed plugin (``"bgr8; jpeg compressed bgr8"``)
    so rqt/Foxglove viewers recognise it. ``quality`` (0-100) applies to JPEG only; PNG is lossless.
    """
    from sensor_msgs.msg import CompressedImage

    if fmt not in COMPRESSED_FORMATS:
        raise ImageConversionError(f"unsupported compressed format {fmt!r}; supported: jpeg, png")
    if not 0 <= quality <= 100:
        raise ImageConversionError(f"JPEG quality must be in 0..100, got {quality}")
    encoding = "mono8" if isinstance(image, np.ndarray) and image.ndim == 2 else "bgr8"
    _check_array(image, encoding)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if COMPRESSED_FORMATS[fmt] == ".jpg" else []
    ok, encoded = cv2.imencode(COMPRESSED_FORMATS[fmt], image, params)
    if not ok:
        raise ImageConversionError(f"OpenCV could not encode a {image.shape} array as {fmt}")
    msg = CompressedImage()
    name = "png" if fmt == "png" else "jpeg"
    msg.format = f"{encoding}; {name} compressed {encoding}"
    data = array.array("B")
    data.frombytes(encoded)
    msg.data = data
    if header is not None:
        msg.header = header
    return msg
