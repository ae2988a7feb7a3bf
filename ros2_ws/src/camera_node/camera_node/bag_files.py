"""rosbag2 reading and writing for image topics, through ``rosbags`` (no ROS install needed).

Bags written here follow rosbag2's on-disk format (version 9 metadata, as ROS 2 Jazzy and later
write it) with CDR payloads, the message definition and type hash, and the publishers' offered
QoS, so ``ros2 bag play``/``info`` and Foxglove read them like bags from ``ros2 bag record``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from face_common.settings import setting
from rosbags.interfaces import (
    Connection,
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

IMAGE_TYPE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE_TYPE = "sensor_msgs/msg/CompressedImage"
IMAGE_TYPES = (IMAGE_TYPE, COMPRESSED_IMAGE_TYPE)
STORAGES = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}
BAG_VERSION = 9

TYPESTORE = get_typestore(Stores.ROS2_KILTED)
"""Message definitions for (de)serialising; the image types are the same in every ROS 2 distro."""


class BagError(ValueError):
    """A bag that cannot be read or written as asked."""


@dataclass(frozen=True)
class RecorderSettings:
    """What ``bag_recorder`` records, where, and when it stops."""

    topic: str = setting("image_raw", "Image topic to record (relative names use the namespace)")
    output: str = setting("", "New bag folder to write ('' = rosbag2_<date>-<time>, as ros2 bag record)")
    storage: str = setting("sqlite3", "Bag storage", choices=tuple(STORAGES))
    max_messages: int = setting(0, "Stop after this many messages (0 = no limit)", 0, 2**31 - 1)


def bag_folder(path: Path) -> Path:
    """The rosbag2 folder for ``path``: the folder itself, or the folder of a ``.db3``/``.mcap`` file."""
    folder = path if path.is_dir() else path.parent
    if not (folder / "metadata.yaml").is_file():
        raise BagError(f"{path} is not a rosbag2 bag: {folder / 'metadata.yaml'} is missing")
    return folder


def is_bag(path: Path) -> bool:
    """Whether ``path`` names a rosbag2 folder, its ``metadata.yaml`` or one of its storage files."""
    if path.is_dir():
        return (path / "metadata.yaml").is_file()
    return path.name == "metadata.yaml" or path.suffix in (".db3", ".mcap")


def open_reader(path: Path) -> Reader:
    folder = bag_folder(path)
    try:
        reader = Reader(folder)
        reader.open()
    except Exception as err:  # rosbags raises several error types for unreadable bags
        raise BagError(f"cannot open bag {path}: {err}") from err
    return reader


def image_connection(reader: Reader, topic: str) -> Connection:
    """The connection of ``topic`` (with or without a leading ``/``), or of the bag's only image topic."""
    images = [conn for conn in reader.connections if conn.msgtype in IMAGE_TYPES]
    listing = ", ".join(f"{conn.topic} ({conn.msgtype})" for conn in images) or "none"
    if topic:
        wanted = "/" + topic.lstrip("/")
        for conn in images:
            if conn.topic == wanted:
                return conn
        raise BagError(f"bag {reader.path} has no image topic {wanted!r}; image topics: {listing}")
    if len(images) != 1:
        raise BagError(
            f"bag {reader.path} has {len(images)} image topics ({listing}); set the 'topic' parameter"
        )
    return images[0]


def stamp_ns(header: Any) -> int:
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def with_stamp(cdr: bytes, stamp: int) -> bytes:
    """A serialized message whose leading ``std_msgs/Header`` stamp is replaced by ``stamp`` (ns).

    The stamp is the first field after the 4-byte CDR encapsulation header, so a stored image can
    be republished with a new capture time without deserialising its pixels.
    """
    little_endian = cdr[1] & 1
    patched = bytearray(cdr)
    struct.pack_into("<iI" if little_endian else ">iI", patched, 4, *divmod(stamp, 1_000_000_000))
    return bytes(patched)


def _qos_time(nanoseconds: int) -> QosTime:
    sec, nsec = divmod(int(nanoseconds), 1_000_000_000)
    return QosTime(sec=sec, nsec=nsec)


def qos_to_bag(profile: Any) -> Qos:
    """An rclpy ``QoSProfile`` in rosbags' form; both use rmw's numeric policy values."""
    return Qos(
        history=QosHistory(int(profile.history)),
        depth=int(profile.depth),
        reliability=QosReliability(int(profile.reliability)),
        durability=QosDurability(int(profile.durability)),
        deadline=_qos_time(profile.deadline.nanoseconds),
        lifespan=_qos_time(profile.lifespan.nanoseconds),
        liveliness=QosLiveliness(int(profile.liveliness)),
        liveliness_lease_duration=_qos_time(profile.liveliness_lease_duration.nanoseconds),
        avoid_ros_namespace_conventions=bool(profile.avoid_ros_namespace_conventions),
    )


class ImageBagWriter:
    """Writes one image topic's serialized messages to a new rosbag2 bag; ``close`` makes it valid."""

    def __init__(
        self, path: Path, topic: str, msgtype: str, offered_qos: Iterable[Any], storage: str = "sqlite3"
    ) -> None:
        if storage not in STORAGES:
            raise BagError(f"unknown bag storage {storage!r}; accepted: {', '.join(STORAGES)}")
        if msgtype not in IMAGE_TYPES:
            raise BagError(f"{topic} has type {msgtype}; only {', '.join(IMAGE_TYPES)} are recorded")
        if path.exists():
            raise BagError(f"{path} exists already; rosbag2 bags are written to a new folder")
        self.path = path
        self.count = 0
        self._writer = Writer(path, version=BAG_VERSION, storage_plugin=STORAGES[storage])
        self._writer.open()
        self._connection = self._writer.add_connection(
            topic,
            msgtype,
            typestore=TYPESTORE,
            serialization_format="cdr",
            offered_qos_profiles=[qos_to_bag(profile) for profile in offered_qos],
        )

    def write(self, receive_time_ns: int, cdr: bytes) -> None:
        self._writer.write(self._connection, receive_time_ns, cdr)
        self.count += 1

    def close(self) -> None:
        """Flush the storage and write ``metadata.yaml``; without it ``ros2 bag play`` refuses the bag."""
        self._writer.close()
