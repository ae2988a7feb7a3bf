"""events_out killed (SIGKILL) while the broker is down: after a restart every event it received is
on the topic exactly once, and erasures go out as tombstones through the same spool.

A real node process (``ros_processes``) and a real broker (tansu, ``LocalBroker``) of the test's
own, started only after the kill, on the address the node was given from the start.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path

from confluent_kafka import Consumer
from face_common.erasure import ERASED_FACES_QOS, ERASED_FACES_TOPIC
from face_common.faces import Box, Face, FrameFaces, FrameRef
from face_common.health import Level
from face_common.ros_msgs import FacesMsg, frame_faces_to_msg
from face_sink.spool import Spool
from kafka_bridge.event_record import decode_event
from kafka_bridge.local_broker import LocalBroker, free_port
from kafka_bridge.topics import ensure_topics, events_topic
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_processes import RosProcesses, exit_counters, reported, status_values, stop, wait_until
from std_msgs.msg import Int64

CAMERA = "cam5"
NODE = f"/{CAMERA}/events_out"
T0_NS = 1_764_000_000_000_000_000
TIMEOUT_S = 30.0


def frame(index: int, faces: int = 2) -> FacesMsg:
    return frame_faces_to_msg(
        FrameFaces(
            FrameRef(CAMERA, T0_NS + index * 10**8),
            [
                Face(i, Box(10 + 60 * i, 20, 50, 50), 0.9, face_id=3 + i, age=30.0, gender="male")
                for i in range(faces)
            ],
        )
    )


def received(statuses: list, count: int, counter: str = "received") -> bool:
    return any(int(status_values(s).get(counter, 0)) >= count for s in list(statuses))


def read_topic(bootstrap: str, topic: str, wanted: int, settle_s: float = 3.0) -> list:
    """Every record of ``topic``: until ``wanted`` came, then ``settle_s`` more for any duplicate."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
        }
    )
    consumer.subscribe([topic])
    records, deadline, settled = [], time.monotonic() + TIMEOUT_S, None
    try:
        while time.monotonic() < deadline and (settled is None or time.monotonic() < settled):
            records += [r for r in consumer.consume(50, timeout=0.2) if r.error() is None]
            if settled is None and len(records) >= wanted:
                settled = time.monotonic() + settle_s
    finally:
        consumer.close()
    return records


def test_killed_events_out_sends_every_event_exactly_once_after_restart(
    ros_graph: RosProcesses, tmp_path: Path
) -> None:
    ros_graph.env["KAFKA_CLIENT_RECONNECT_BACKOFF_MAX_MS"] = "500"
    broker = LocalBroker()  # its port is known now; it starts after the kill
    topic = f"events-{uuid.uuid4().hex[:8]}"
    params = {
        "bootstrap_servers": broker.bootstrap,
        "topic": topic,
        "create_topics": False,  # no broker to ask yet: the test makes the topic
        "spool_path": tmp_path / "spool" / "events_out.sqlite",
    }
    faces = ros_graph.node.create_publisher(
        FacesMsg, f"/{CAMERA}/faces_attributed", QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    )
    erasures = ros_graph.node.create_publisher(Int64, ERASED_FACES_TOPIC, ERASED_FACES_QOS)
    health = ros_graph.diagnostics(NODE)
    events_out = ros_graph.start("kafka_bridge", "events_out", namespace=CAMERA, **params)
    assert wait_until(lambda: faces.get_subscription_count() >= 1, TIMEOUT_S)
    assert wait_until(lambda: erasures.get_subscription_count() >= 1, TIMEOUT_S)
    for index in range(3):
        faces.publish(frame(index))
    erasures.publish(Int64(data=42))
    assert wait_until(lambda: received(health, 7), TIMEOUT_S), [status_values(s) for s in health]
    reported(health, Level.ERROR, "Kafka broker unreachable")
    events_out.kill()  # SIGKILL with 7 records spooled, none acknowledged
    events_out.communicate()
    spool = Spool(params["spool_path"], capacity=100)
    left = Counter((r.key, r.value is None) for r in spool.read())
    assert left == {(CAMERA.encode(), False): 6, (b"face:42", True): 1}
    spool.close()

    try:
        restarted = ros_graph.diagnostics(NODE)
        events_out = ros_graph.start("kafka_bridge", "events_out", namespace=CAMERA, **params)
        assert wait_until(lambda: received(restarted, 7, "replayed"), TIMEOUT_S), log_of(events_out)
        # The erasure publisher's transient-local history hands 42 to the new process again: a
        # second tombstone, harmless (an erased ID is never issued again).
        assert wait_until(lambda: received(restarted, 1), TIMEOUT_S), log_of(events_out)
        broker.start()
        ensure_topics({"bootstrap.servers": broker.bootstrap}, [events_topic(topic, partitions=2)])
        records = read_topic(broker.bootstrap, topic, wanted=8)
        log = stop(events_out)
    finally:
        broker.stop()

    events = [decode_event(r.value()) for r in records if r.value() is not None]
    per_key = Counter((e.camera_id, e.stamp_ns, e.face_index) for e in events)
    expected = {(CAMERA, T0_NS + i * 10**8, k) for i in range(3) for k in range(2)}
    assert set(per_key) == expected and set(per_key.values()) == {1}, per_key
    tombstones = [r.key() for r in records if r.value() is None]
    assert tombstones == [b"face:42", b"face:42"]
    assert "sending 7 records an earlier run left in the spool" in log
    counters = exit_counters(log)
    assert (counters["replayed"], counters["received"], counters["delivered"]) == (7, 1, 8), log
    assert counters["queued"] == counters["in_flight"] == counters["dropped"] == counters["failed"] == 0


def log_of(process) -> str:
    process.kill()
    return process.communicate()[0]


def test_a_full_spool_is_an_error_and_an_id_no_person_has_is_a_bad_message(
    ros_graph: RosProcesses, tmp_path: Path
) -> None:
    params = {
        "bootstrap_servers": f"127.0.0.1:{free_port()}",  # no broker: everything stays spooled
        "create_topics": False,
        "queue_events": 3,
        "spool_path": tmp_path / "events_out.spool",
    }
    faces = ros_graph.node.create_publisher(
        FacesMsg, f"/{CAMERA}/faces_attributed", QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    )
    erasures = ros_graph.node.create_publisher(Int64, ERASED_FACES_TOPIC, ERASED_FACES_QOS)
    health = ros_graph.diagnostics(NODE)
    events_out = ros_graph.start("kafka_bridge", "events_out", namespace=CAMERA, **params)
    assert wait_until(lambda: faces.get_subscription_count() and erasures.get_subscription_count(), TIMEOUT_S)
    erasures.publish(Int64(data=-1))  # the unknown-face ID: not a person's, no tombstone
    faces.publish(frame(0))
    faces.publish(frame(1))  # 4 events, room for 3
    full = reported(health, Level.ERROR, "spool full (3 records), new records refused")
    assert status_values(full)["dropped"] == "1"
    log = stop(events_out)
    assert "record refused: spool full (3 records)" in log
    assert "dropping unreadable Int64: face ID -1 cannot be erased" in log
    counters = exit_counters(log)
    assert (counters["received"], counters["dropped"], counters["bad_messages"], counters["erasures"]) == (
        4,
        1,
        1,
        0,
    )
