"""Mapping between :class:`FrameFaces` and the ``face_msgs/FaceArray`` message.

Nodes publish and receive :class:`FrameFaces` only through these two functions, so every
stage reads the wire format the same way. The header carries the frame's identity (``frame_id``
= camera id, ``stamp`` = capture time); the crop image repeats it so a crop seen alone still
names its frame. "Not there" is encoded in-band: NaN floats, empty gender, zero-size crop box
and an empty crop image (see ``face_msgs/msg/Face.msg``).

Reading only touches message fields, so :func:`frame_faces_from_msg` also takes equivalent
messages deserialized by ``rosbags``. It checks what ``Face.msg`` promises (no infinite value,
gender empty or known, a stamp a header can hold again), so whatever it returns can be published
on; a message that breaks that is a :class:`FaceMsgError`, a crop that is not an image an
``ImageConversionError`` (both ``ValueError``: ``GraphNode.decoded`` counts and drops them).
"""

from __future__ import annotations

import math
from typing import Any

from face_msgs.msg import Face as FaceMsg
from face_msgs.msg import FaceArray
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from face_common.faces import GENDERS, Box, Face, FrameFaces, FrameRef
from face_common.images import array_to_image_msg, image_msg_to_array

FacesMsg = FaceArray
"""The message class carrying one frame's faces (topics ``faces``, ``faces_identified``, ...)."""

FACES_QOS = QoSProfile(
    depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)
"""QoS of every faces topic, publishers and subscribers alike: unlike camera frames, each faces
message becomes rows of the product's output, so it is delivered reliably; the deep history lets
a slower stage (the descriptor takes ~0.1 s a face) fall behind for a while without loss, and
transient-local durability hands it to a stage that starts (or restarts) late. Re-delivered
frames are harmless: the sink's writes are idempotent."""

CROP_ENCODING = "bgr8"
NS_PER_S = 1_000_000_000
_STAMP_NS_RANGE = range(-(2**31) * NS_PER_S, 2**31 * NS_PER_S)
"""Stamps a ``builtin_interfaces/Time`` (int32 seconds) can hold."""


class FaceMsgError(ValueError):
    """A faces message whose fields break ``Face.msg``'s contract."""


def frame_header(frame: FrameRef) -> Header:
    """A ``std_msgs/Header`` naming ``frame``: ``frame_id`` = camera id, ``stamp`` = capture time."""
    header = Header(frame_id=frame.camera_id)
    header.stamp.sec, header.stamp.nanosec = divmod(int(frame.stamp_ns), NS_PER_S)
    return header


class HeaderError(ValueError):
    """A header that would change when republished: a stamp no ROS time holds (it would wrap
    silently) or a ``frame_id`` with a NUL character (ROS strings end there)."""


def frame_ref(header: Any) -> FrameRef:
    """The :class:`FrameRef` a ``std_msgs/Header`` names (inverse of :func:`frame_header`).

    The stamp is ``sec`` s + ``nanosec`` ns, as ``rclpy.time.Time.from_msg`` reads it (a
    ``nanosec`` of a second or more carries). Raises :class:`HeaderError` when that no longer fits
    ``int32`` seconds: rclpy does not check ranges, so republishing it would wrap the seconds
    (to 1901) without a word; also for a ``frame_id`` (camera id) with a NUL character.
    """
    stamp_ns = int(header.stamp.sec) * NS_PER_S + int(header.stamp.nanosec)
    if stamp_ns not in _STAMP_NS_RANGE:
        raise HeaderError(f"capture stamp {stamp_ns} ns does not fit a ROS time")
    camera_id = str(header.frame_id)
    if "\x00" in camera_id:
        raise HeaderError(f"frame_id {camera_id!r} holds a NUL character")
    return FrameRef(camera_id, stamp_ns)


def _face_to_msg(face: Face, header: Header) -> FaceMsg:
    # int()/float()/bool(): the generated setters reject NumPy scalars, which models return.
    msg = FaceMsg(
        index=int(face.index),
        x=int(face.box.x),
        y=int(face.box.y),
        width=int(face.box.w),
        height=int(face.box.h),
        score=float(face.score),
        track_id=int(face.track_id),
        face_id=int(face.face_id),
        distance=float(face.distance),
        new_face=bool(face.new_face),
        age=float(face.age),
        gender=str(face.gender),
        p_female=float(face.p_female),
    )
    if face.crop_box is not None:
        msg.crop_x, msg.crop_y = int(face.crop_box.x), int(face.crop_box.y)
        msg.crop_width, msg.crop_height = int(face.crop_box.w), int(face.crop_box.h)
    if face.crop is not None:
        msg.crop = array_to_image_msg(face.crop, CROP_ENCODING, header)
    return msg


def frame_faces_to_msg(frame_faces: FrameFaces) -> FaceArray:
    """The ``FaceArray`` message for one frame's faces, crops as ``bgr8`` images.

    Raises ``face_common.images.ImageConversionError`` for a crop that is not a non-empty
    ``H x W x 3`` uint8 array.
    """
    header = frame_header(frame_faces.frame)
    return FaceArray(header=header, faces=[_face_to_msg(face, header) for face in frame_faces.faces])


def _checked_float(msg: Any, name: str) -> float:
    """A float field: NaN means "not there", but no stage makes an infinite one."""
    value = float(getattr(msg, name))
    if math.isinf(value):
        raise FaceMsgError(f"face {msg.index}: {name} is {value}")
    return value


def _face_from_msg(msg: Any) -> Face:
    gender = str(msg.gender)
    if gender and gender not in GENDERS:
        raise FaceMsgError(f"face {msg.index}: gender must be one of {GENDERS} or empty, got {gender!r}")
    has_crop_box = msg.crop_width > 0 and msg.crop_height > 0
    has_crop = msg.crop.width > 0 and msg.crop.height > 0
    return Face(
        index=int(msg.index),
        box=Box(int(msg.x), int(msg.y), int(msg.width), int(msg.height)),
        score=_checked_float(msg, "score"),
        crop=image_msg_to_array(msg.crop, CROP_ENCODING) if has_crop else None,
        crop_box=Box(int(msg.crop_x), int(msg.crop_y), int(msg.crop_width), int(msg.crop_height))
        if has_crop_box
        else None,
        track_id=int(msg.track_id),
        face_id=int(msg.face_id),
        distance=_checked_float(msg, "distance"),
        new_face=bool(msg.new_face),
        age=_checked_float(msg, "age"),
        gender=gender,
        p_female=_checked_float(msg, "p_female"),
    )


def frame_faces_from_msg(msg: Any) -> FrameFaces:
    """The :class:`FrameFaces` a ``FaceArray`` message carries (crops as BGR arrays).

    Raises :class:`HeaderError` for a stamp no ROS time holds, :class:`FaceMsgError` for fields
    ``Face.msg`` rules out, and
    ``face_common.images.ImageConversionError`` for a crop image in an unsupported encoding or
    whose data does not match its size; callers log it and drop the message.
    """
    return FrameFaces(frame_ref(msg.header), [_face_from_msg(face) for face in msg.faces])
