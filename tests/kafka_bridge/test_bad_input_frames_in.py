"""frames_in survives every kind of unreadable frame record (issue 12): each is counted (``bad``,
WARN on ``/diagnostics``) and the good record after it is published. A header without a value
used to stop the consumer (AttributeError); a stamp past int32 seconds was republished as 1901,
and a JPEG claiming 30000 x 30000 made OpenCV allocate gigabytes."""

from __future__ import annotations

import struct
import time
import uuid

import numpy as np
from confluent_kafka import Producer
from face_common.faces import FrameRef
from face_common.health import Level
from face_common.ros_msgs import FACES_QOS, FacesMsg
from kafka_bridge.frame_record import FrameMeta, encode_image
from kafka_bridge.local_broker import LocalBroker
from kafka_bridge.topics import ensure_topics, frames_topic
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_processes import RosProcesses, exit_counters, reported, status_values, stop, wait_until
from sensor_msgs.msg import Image

CAMERA = "cam_bad"
GROUP_SESSION_MS = 6000
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def _jpeg() -> bytes:
    y, x = np.mgrid[0:48, 0:64]
    return encode_image(np.dstack([x * 4, y * 5, (x + y) * 2]).astype(np.uint8), "jpeg")


def _headers(stamp: int, **replaced: bytes | None) -> list[tuple[str, bytes | None]]:
    """A good record's headers (capture time ``stamp`` ns) with ``replaced`` values."""
    good = FrameMeta(FrameRef(CAMERA, stamp), 0, "jpeg", 64, 48).headers()
    return [(name, replaced.get(name, value)) for name, value in good]


def _claiming_30000() -> bytes:
    data = bytearray(_jpeg())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 30_000, 30_000)
    return bytes(data)


def test_each_bad_record_is_counted_and_the_next_frame_published(
    ros_graph: RosProcesses, kafka_broker: LocalBroker
) -> None:
    topic = f"frames-{uuid.uuid4().hex[:8]}"
    # The camera's analysis chain as frames_in sees it: takes each image and acknowledges it.
    acks = ros_graph.node.create_publisher(FacesMsg, f"/server/{CAMERA}/faces_stored", FACES_QOS)

    def analysed(msg: Image) -> int:
        acks.publish(FacesMsg(header=msg.header))
        return msg.header.stamp.sec

    arrived = ros_graph.collect(Image, f"/server/{CAMERA}/image_raw", analysed, RELIABLE)
    health = ros_graph.diagnostics("/server/frames_in")
    frames_in = ros_graph.start(
        "kafka_bridge",
        "frames_in",
        namespace="server",
        bootstrap_servers=kafka_broker.bootstrap,
        topic=topic,
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        session_timeout_ms=GROUP_SESSION_MS,
        camera_ids=f"[{CAMERA}]",
    )
    assert wait_until(
        lambda: (
            ros_graph.node.count_publishers(f"/server/{CAMERA}/image_raw") >= 1
            and ros_graph.node.count_subscribers(f"/server/{CAMERA}/faces_stored") >= 1
        ),
        timeout_s=30,
    )
    ensure_topics({"bootstrap.servers": kafka_broker.bootstrap}, [frames_topic(topic, partitions=1)])
    now_s = int(time.time())
    jpeg = _jpeg()
    bad = {
        "header without a value": (jpeg, _headers(now_s * 10**9, width=None)),
        "unknown schema version": (jpeg, _headers(now_s * 10**9, schema_version=b"2")),
        "malformed stamp": (jpeg, _headers(now_s * 10**9, stamp_ns=b"1e400")),
        "stamp past 2038": (jpeg, _headers(2**31 * 10**9)),
        "corrupt JPEG": (b"\xff\xd8" + bytes(range(256)) * 4, _headers(now_s * 10**9)),
        "truncated JPEG": (jpeg[: len(jpeg) // 2], _headers(now_s * 10**9)),
        "JPEG bigger than its headers": (_claiming_30000(), _headers(now_s * 10**9)),
    }
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    for k, (value, headers) in enumerate(bad.values()):  # each bad record, then a good one
        producer.produce(topic, value, CAMERA.encode(), headers=headers)
        producer.produce(topic, jpeg, CAMERA.encode(), headers=_headers((now_s + k) * 10**9))
    assert producer.flush(10) == 0

    warning = reported(health, Level.WARN, "bad +", timeout_s=30)
    assert wait_until(lambda: len(arrived) >= len(bad), timeout_s=30), arrived
    log = stop(frames_in)
    assert frames_in.returncode == 0, log
    assert "Traceback" not in log
    counters = exit_counters(log)
    assert (counters["received"], counters["decoded"], counters["bad"]) == (2 * len(bad), len(bad), len(bad))
    assert int(status_values(warning)["bad"]) >= 1
    assert sorted(arrived) == [now_s + k for k in range(len(bad))]
    assert "frame record headers without a value: width" in log  # the first; the rest within 5 s
