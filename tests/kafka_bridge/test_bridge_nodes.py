"""The bridge nodes as real processes over DDS, through a real broker (tansu).

In one DDS domain the server side must republish into another namespace than the camera's
(here ``/server``), or frames_out would read frames_in's output back. This process stands in for
frames_in's analysis chain: it takes the images and acknowledges them (``analysed``).
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from confluent_kafka import Consumer, Producer
from face_common.faces import Box, Face, FaceEvent, FrameFaces, FrameRef
from face_common.health import Level
from face_common.images import array_to_image_msg
from face_common.ros_msgs import FACES_QOS, FacesMsg, frame_faces_to_msg, frame_header
from kafka_bridge.event_record import decode_event
from kafka_bridge.frame_record import FrameMeta, encode_image
from kafka_bridge.local_broker import LocalBroker
from kafka_bridge.topics import ensure_topics, events_topic, frames_topic
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_processes import RosProcesses, exit_counters, reported, status_values, stop, wait_until
from sensor_msgs.msg import Image

GROUP_SESSION_MS = 6000  # tansu joins a group after about half of it
FRAMES = 24
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def stamp_ns(msg: Image | FacesMsg) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def image_summary(msg: Image) -> tuple[int, str, int, int, str]:
    return stamp_ns(msg), msg.header.frame_id, msg.width, msg.height, msg.encoding


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def analysed(
    ros_graph: RosProcesses, camera: str, convert: Callable[[Image], Any], acknowledge: bool = True
) -> list:
    """The images frames_in publishes for ``camera``, taken as the camera's analysis chain takes
    them: reliably, each acknowledged on ``faces_stored`` (as the sink would) when it arrives (unless not
    ``acknowledge``: a chain that never finishes a frame)."""
    acks = ros_graph.node.create_publisher(FacesMsg, f"/server/{camera}/faces_stored", FACES_QOS)

    def arrived(msg: Image) -> Any:
        if acknowledge:
            acks.publish(FacesMsg(header=msg.header))
        return convert(msg)

    return ros_graph.collect(Image, f"/server/{camera}/image_raw", arrived, RELIABLE)


def test_camera_frames_cross_the_broker_with_their_stamps(
    ros_graph: RosProcesses, kafka_broker: LocalBroker, face_data: Path
) -> None:
    kafka = {"bootstrap_servers": kafka_broker.bootstrap, "topic": unique("frames")}
    arrived = analysed(ros_graph, "cam1", image_summary)
    in_health = ros_graph.diagnostics("/server/frames_in")
    frames_in = ros_graph.start(
        "kafka_bridge",
        "frames_in",
        namespace="server",
        group_id=unique("g"),
        session_timeout_ms=GROUP_SESSION_MS,
        camera_ids="[cam1]",
        **kafka,
    )
    frames_out = ros_graph.start(
        "kafka_bridge", "frames_out", namespace="cam1", encoding="jpeg", jpeg_quality=80, **kafka
    )
    assert wait_until(lambda: ros_graph.node.count_publishers("/server/cam1/image_raw") >= 1, timeout_s=30)
    camera = ros_graph.start(
        "camera_node",
        "camera_node",
        namespace="cam1",
        camera_id="cam1",
        source=face_data / "video" / "short_hamilton_clip.mp4",
        width=640,
        height=360,
        max_frames=FRAMES,
        min_subscribers=1,  # frames_out
    )
    camera_log = stop(camera, timeout_s=60) if not wait_until(lambda: camera.poll() is not None, 60) else ""
    assert camera.wait() == 0 and not camera_log, camera_log
    out_log = stop(frames_out)
    out_stats = exit_counters(out_log)
    wait_until(
        lambda: (
            bool(in_health) and status_values(in_health[-1])["acknowledged"] == str(out_stats["delivered"])
        ),
        timeout_s=20,
    )
    in_log = stop(frames_in)
    in_stats = exit_counters(in_log)
    print(f"\ncamera -> Kafka -> ROS: frames_out {out_stats}, frames_in {in_stats}, {len(arrived)} arrived")
    # DDS may drop a best-effort frame on a loaded machine; Kafka must not lose any.
    assert out_stats["received"] >= FRAMES - 4, out_log
    assert out_stats["delivered"] == out_stats["received"] and out_stats["lost"] == 0
    assert in_stats["decoded"] == out_stats["delivered"] and in_stats["too_old"] == in_stats["bad"] == 0
    # Kafka to the analysis chain: reliable, every frame acknowledged.
    assert len(arrived) == in_stats["published"] == in_stats["acknowledged"] == in_stats["decoded"], in_log
    assert {a[1:] for a in arrived} == {("cam1", 640, 360, "bgr8")}
    stamps = sorted(a[0] for a in arrived)  # the camera's capture stamps, on its 12 fps grid
    gaps_s = np.diff(stamps) / 1e9
    assert len(set(stamps)) == len(stamps) and np.all(np.abs(gaps_s / (1 / 12) - np.round(gaps_s * 12)) < 0.3)
    assert abs(time.time_ns() - stamps[-1]) < 60e9


def test_frames_in_skips_stale_and_unreadable_records_and_counts_them(
    ros_graph: RosProcesses, kafka_broker: LocalBroker
) -> None:
    topic = unique("frames")
    # A chain that never finishes a frame: live mode lets max_in_flight frames in, drops the rest.
    arrived = analysed(ros_graph, "cam9", image_summary, acknowledge=False)
    health = ros_graph.diagnostics("/server/frames_in")
    frames_in = ros_graph.start(
        "kafka_bridge",
        "frames_in",
        namespace="server",
        bootstrap_servers=kafka_broker.bootstrap,
        topic=topic,
        group_id=unique("g"),
        session_timeout_ms=GROUP_SESSION_MS,
        max_frame_age_s=5.0,
        max_in_flight=2,
        camera_ids="[cam9]",
    )
    # The chain is up once both ends matched; frames_in joins its group seconds later.
    assert wait_until(
        lambda: (
            ros_graph.node.count_publishers("/server/cam9/image_raw") >= 1
            and ros_graph.node.count_subscribers("/server/cam9/faces_stored") >= 1
        ),
        timeout_s=30,
    )
    ensure_topics({"bootstrap.servers": kafka_broker.bootstrap}, [frames_topic(topic, partitions=2)])
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    image = np.full((48, 64, 3), 90, np.uint8)
    now = time.time_ns()
    ages_s = [3600, 0, 30, 0, 10, 0]
    for seq, age_s in enumerate(ages_s):
        meta = FrameMeta(FrameRef("cam9", now - age_s * 10**9), seq, "mono8", 64, 48)
        producer.produce(topic, encode_image(image[:, :, 0], "mono8"), b"cam9", headers=meta.headers())
    producer.produce(topic, b"not a frame", b"cam9", headers=[("schema_version", b"1")])
    assert producer.flush(10) == 0

    warning = reported(health, Level.WARN, "bad +1", timeout_s=20)  # the unreadable record
    assert wait_until(lambda: status_values(health[-1])["received"] == str(len(ages_s) + 1), timeout_s=20)
    assert wait_until(lambda: len(arrived) == 2, timeout_s=20)
    log = stop(frames_in)
    counters = exit_counters(log)
    assert counters == {
        "received": 7,
        "decoded": 2,
        "published": 2,
        "acknowledged": 0,
        "in_flight": 2,
        "too_old": 3,
        "no_analysis": 0,
        "window_full": 1,  # the third fresh frame
        "bad": 1,
        "unpublishable": 0,
        "unacknowledged": 0,
    }, log
    assert status_values(warning)["bad"] == "1"
    assert sorted(a[0] for a in arrived) == [now, now]
    assert {a[1:] for a in arrived} == {("cam9", 64, 48, "bgr8")}
    assert "frame record lacks header 'encoding'" in log


def test_frames_out_reconnects_after_a_broker_restart_and_counts_lost_frames(ros_graph: RosProcesses) -> None:
    fps, queue_frames = 12.0, 6
    # librdkafka settings pass through from the environment.
    ros_graph.env["KAFKA_CLIENT_RECONNECT_BACKOFF_MAX_MS"] = "500"
    with LocalBroker() as broker:
        topic = unique("frames")
        spec = frames_topic(topic, partitions=1)
        ensure_topics({"bootstrap.servers": broker.bootstrap}, [spec])
        kafka = {"bootstrap_servers": broker.bootstrap, "topic": topic}
        arrived = analysed(ros_graph, "cam7", stamp_ns)
        out_health = ros_graph.diagnostics("/cam7/frames_out")
        publisher = ros_graph.node.create_publisher(
            Image, "/cam7/image_raw", QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        )
        frames_in = ros_graph.start(
            "kafka_bridge",
            "frames_in",
            namespace="server",
            group_id=unique("g"),
            session_timeout_ms=GROUP_SESSION_MS,
            camera_ids="[cam7]",
            **kafka,
        )
        frames_out = ros_graph.start(
            "kafka_bridge",
            "frames_out",
            namespace="cam7",
            encoding="bgr8",
            queue_frames=queue_frames,
            max_in_flight=4,
            delivery_timeout_s=2.0,
            **kafka,
        )
        assert wait_until(lambda: publisher.get_subscription_count() >= 1, timeout_s=20)
        discovered = wait_until(lambda: ros_graph.node.count_publishers("/server/cam7/image_raw") >= 1, 30)
        assert discovered, stop(frames_in)
        image = np.zeros((120, 160, 3), np.uint8)
        published: list[int] = []

        def publish_for(seconds: float) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                frame = FrameRef("cam7", time.time_ns())
                publisher.publish(array_to_image_msg(image, "bgr8", frame_header(frame)))
                published.append(frame.stamp_ns)
                time.sleep(1 / fps)

        publish_for(2.0)
        # tansu keeps records in memory: let frames_in read what was sent so far, so that only the
        # outage itself (not consumer lag at the moment of the kill) costs frames.
        wait_until(lambda: published[-1] in arrived, timeout_s=15)
        broker.kill()
        outage_start = len(published)
        publish_for(4.0)
        broker.start()
        ensure_topics({"bootstrap.servers": broker.bootstrap}, [spec])
        after_restart = len(published)
        publish_for(5.0)  # reconnecting and replacing the producer took 2-3 s here
        wait_until(lambda: published[-1] in arrived, timeout_s=25)
        out_log, in_log = stop(frames_out), stop(frames_in)

    stats = exit_counters(out_log)
    # DDS matching is asymmetric: this process's writer matched frames_out's reader before that
    # reader matched the writer, and the frames sent in between never reached frames_out. With the
    # broker up and nothing queued, each frame frames_out got then was delivered: those before the
    # first arrival are exactly the unmatched ones.
    assert arrived, in_log
    unmatched = published.index(min(arrived))
    print(
        f"\noutage test: published {len(published)} ({unmatched} before frames_out matched), "
        f"arrived {len(arrived)}, frames_out {stats}"
    )
    assert "broker unreachable" in out_log and stats["received"] == len(published) - unmatched, out_log
    assert stats["queued"] == stats["in_flight"] == 0
    assert stats["received"] == stats["delivered"] + stats["dropped"] + stats["failed"]
    outage_frames = after_restart - outage_start
    assert stats["lost"] >= outage_frames - queue_frames - 4  # 4: what the client held for the first probe
    assert published[-1] in arrived, in_log  # frames flow again after the restart
    # Reconnecting (and replacing the producer the empty broker no longer knows) costs a few
    # frames after the restart; by the last second everything flows again.
    assert set(published[-int(fps) :]) <= set(arrived)
    # Everything acknowledged arrived, except what the killed broker took with it (its storage is
    # memory) -- at most the frames acknowledged in the instant before the kill.
    assert stats["delivered"] - 4 <= len(arrived) <= stats["delivered"]
    assert len(published) - len(arrived) >= stats["lost"]
    # The outage was reported as it happened: ERROR while the broker was away, losses counted,
    # and no longer ERROR once frames were delivered again.
    reported(out_health, Level.ERROR, "broker unreachable", timeout_s=1)
    during = [status_values(s) for s in list(out_health) if Level(s.level[0]) == Level.ERROR]
    assert max(int(v["dropped"]) + int(v["failed"]) for v in during) > 0, during
    assert Level(out_health[-1].level[0]) != Level.ERROR, out_health[-1].message


def test_events_out_produces_one_json_event_per_face(
    ros_graph: RosProcesses, kafka_broker: LocalBroker
) -> None:
    topic = unique("events")
    ensure_topics({"bootstrap.servers": kafka_broker.bootstrap}, [events_topic(topic, partitions=2)])
    frame = FrameRef("cam3", 1_764_000_000_000_000_000)
    faces = [
        Face(0, Box(10, 20, 50, 50), 0.9, face_id=4, distance=0.25, new_face=False, age=33.0, gender="male"),
        Face(1, Box(200, 40, 60, 60), 0.8, face_id=5, new_face=True, age=math.nan, gender=""),
    ]
    publisher = ros_graph.node.create_publisher(
        FacesMsg, "/cam3/faces_attributed", QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    )
    events_out = ros_graph.start(
        "kafka_bridge", "events_out", namespace="cam3", bootstrap_servers=kafka_broker.bootstrap, topic=topic
    )
    assert wait_until(lambda: publisher.get_subscription_count() >= 1, timeout_s=20)
    publisher.publish(frame_faces_to_msg(FrameFaces(frame, faces)))
    publisher.publish(frame_faces_to_msg(FrameFaces(FrameRef("cam3", frame.stamp_ns + 1), [])))

    consumer = Consumer(
        {
            "bootstrap.servers": kafka_broker.bootstrap,
            "group.id": unique("g"),
            "auto.offset.reset": "earliest",
            "session.timeout.ms": GROUP_SESSION_MS,
        }
    )
    consumer.subscribe([topic])
    records, deadline = [], time.monotonic() + 20
    while len(records) < 2 and time.monotonic() < deadline:
        records += [r for r in consumer.consume(10, timeout=0.2) if r.error() is None]
    consumer.close()
    log = stop(events_out)
    assert [r.key() for r in records] == [b"cam3", b"cam3"], log
    events = sorted((decode_event(r.value()) for r in records), key=lambda e: e.face_index)
    assert [e.as_dict() for e in events] == [FaceEvent.from_face(frame, f).as_dict() for f in faces]
    assert exit_counters(log)["delivered"] == 2
