"""Mapping between :class:`FrameFaces` and the ``face_msgs/FaceArray`` message.

Nodes publish and receive :class:`FrameFaces` only through these two functions, so every
stage reads the wire format the same way. The header carries the frame's identity (``frame_id``
= camera id, ``stamp`` = capture time); the crop image repeats it so a crop seen alone still
names its frame. "Not there" is encoded in-band: NaN floats, empty gender, zero-size crop box
and an empty crop image (see ``face_msgs/msg/Face.msg``).

Reading only touches message fields, so :func:`frame_faces_from_msg` also takes equivalent
messages deserialized by ``rosbags``.
"""

from __future__ import annotations

from typing import Any

from face_msgs.msg import Face as FaceMsg
from face_msgs.msg import FaceArray
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from face_common.faces import Box, Face, FrameFaces, FrameRef
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


def frame_header(frame: FrameRef) -> Header:
    """A ``std_msgs/Header`` naming ``frame``: ``frame_id`` = camera id, ``stamp`` = capture time."""
    header = Header(frame_id=frame.camera_id)
    header.stamp.sec, header.stamp.nanosec = divmod(int(frame.stamp_ns), NS_PER_S)
    return header


def frame_ref(header: Any) -> FrameRef:
    """The :class:`FrameRef` a ``std_msgs/Header`` names (inverse of :func:`frame_header`)."""
    return FrameRef(str(header.frame_id), int(header.stamp.sec) * NS_PER_S + int(header.stamp.nanosec))


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


def _face_from_msg(msg: Any) -> Face:
    has_crop_box = msg.crop_width > 0 and msg.crop_height > 0
    has_crop = msg.crop.width > 0 and msg.crop.height > 0
    return Face(
        index=int(msg.index),
        box=Box(int(msg.x), int(msg.y), int(msg.width), int(msg.height)),
        score=float(msg.score),
        crop=image_msg_to_array(msg.crop, CROP_ENCODING) if has_crop else None,
        crop_box=Box(int(msg.crop_x), int(msg.crop_y), int(msg.crop_width), int(msg.crop_height))
        if has_crop_box
        else None,
        track_id=int(msg.track_id),
        face_id=int(msg.face_id),
        distance=float(msg.distance),
        new_face=bool(msg.new_face),
        age=float(msg.age),
        gender=str(msg.gender),
        p_female=float(msg.p_female),
    )


def frame_faces_from_msg(msg: Any) -> FrameFaces:
    """The :class:`FrameFaces` a ``FaceArray`` message carries (crops as BGR arrays).

    Raises ``face_common.images.ImageConversionError`` for a crop image in an unsupported
    encoding or whose data does not match its size; callers log it and drop the message.
    """
    return FrameFaces(frame_ref(msg.header), [_face_from_msg(face) for face in msg.faces])
