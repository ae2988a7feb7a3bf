"""rosbag2 helpers: QoS mapping, metadata a ``ros2 bag play`` accepts, header stamp patching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from camera_node.bag_files import (
    TYPESTORE,
    BagError,
    ImageBagWriter,
    qos_to_bag,
    with_stamp,
)
from face_common.images import array_to_image_msg
from rclpy.duration import Duration
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    LivelinessPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)
from rclpy.serialization import serialize_message
from rosbags.rosbag2 import Reader

RELIABLE_LATCHED = QoSProfile(
    history=HistoryPolicy.KEEP_ALL,
    depth=3,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
    deadline=Duration(seconds=1, nanoseconds=5),
    lifespan=Duration(nanoseconds=2_500_000_000),
    liveliness=LivelinessPolicy.MANUAL_BY_TOPIC,
    liveliness_lease_duration=Duration(seconds=4),
)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (
            qos_profile_sensor_data,
            {
                "history": "keep_last",
                "depth": 5,
                "reliability": "best_effort",
                "durability": "volatile",
                "deadline": {"sec": 0, "nsec": 0},
                "liveliness": "system_default",
            },
        ),
        (
            RELIABLE_LATCHED,
            {
                "history": "keep_all",
                "depth": 3,
                "reliability": "reliable",
                "durability": "transient_local",
                "deadline": {"sec": 1, "nsec": 5},
                "lifespan": {"sec": 2, "nsec": 500_000_000},
                "liveliness": "manual_by_topic",
                "liveliness_lease_duration": {"sec": 4, "nsec": 0},
            },
        ),
    ],
    ids=["sensor data", "reliable latched"],
)
@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_bag_metadata_is_what_rosbag2_expects(
    tmp_path: Path, profile: QoSProfile, expected: dict, storage: str
) -> None:
    image = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    writer = ImageBagWriter(tmp_path / "bag", "/cam0/image_raw", "sensor_msgs/msg/Image", [profile], storage)
    for i in range(3):
        writer.write(1_000 + i, serialize_message(array_to_image_msg(image, "bgr8")))
    writer.close()

    info = yaml.safe_load((tmp_path / "bag" / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert (info["version"], info["storage_identifier"], info["message_count"]) == (9, storage, 3)
    (topic,) = info["topics_with_message_count"]
    meta = topic["topic_metadata"]
    assert (meta["name"], meta["type"], meta["serialization_format"]) == (
        "/cam0/image_raw",
        "sensor_msgs/msg/Image",
        "cdr",
    )
    assert meta["type_description_hash"] == TYPESTORE.hash_rihs01("sensor_msgs/msg/Image")
    (qos,) = meta["offered_qos_profiles"]
    assert {key: qos[key] for key in expected} == expected

    with Reader(tmp_path / "bag") as reader:
        stored = [
            (t, TYPESTORE.deserialize_cdr(raw, "sensor_msgs/msg/Image")) for _, t, raw in reader.messages()
        ]
    assert [t for t, _ in stored] == [1_000, 1_001, 1_002]
    np.testing.assert_array_equal(stored[0][1].data.reshape(4, 6, 3), image)


def test_qos_mapping_keeps_rmw_values() -> None:
    qos = qos_to_bag(RELIABLE_LATCHED)
    assert (qos.history.name, qos.reliability.name, qos.durability.name, qos.liveliness.name) == (
        "KEEP_ALL",
        "RELIABLE",
        "TRANSIENT_LOCAL",
        "MANUAL_BY_TOPIC",
    )


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"storage": "rosbag1"}, "unknown bag storage 'rosbag1'"),
        ({"msgtype": "std_msgs/msg/String"}, "only sensor_msgs/msg/Image"),
        ({"exists": True}, "exists already"),
    ],
)
def test_writer_refuses_bad_requests(tmp_path: Path, kwargs: dict, fragment: str) -> None:
    path = tmp_path / "bag"
    if kwargs.pop("exists", False):
        path.mkdir()
    args = {"msgtype": "sensor_msgs/msg/Image", "storage": "sqlite3"} | kwargs
    with pytest.raises(BagError, match=fragment):
        ImageBagWriter(path, "/image_raw", args["msgtype"], [], args["storage"])


@pytest.mark.parametrize("stamp_ns", [0, 1_795_000_000_123_456_789, 42])
def test_with_stamp_rewrites_only_the_header_stamp(stamp_ns: int) -> None:
    msg = array_to_image_msg(np.full((2, 3, 3), 9, np.uint8), "bgr8")
    msg.header.frame_id = "cam7"
    msg.header.stamp.sec, msg.header.stamp.nanosec = 5, 6
    patched = TYPESTORE.deserialize_cdr(with_stamp(serialize_message(msg), stamp_ns), "sensor_msgs/msg/Image")
    assert divmod(stamp_ns, 1_000_000_000) == (patched.header.stamp.sec, patched.header.stamp.nanosec)
    assert (patched.header.frame_id, patched.width, patched.height) == ("cam7", 3, 2)
    assert (patched.data == 9).all()
