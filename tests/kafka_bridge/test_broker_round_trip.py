"""Frame records and topics through a real Kafka-protocol broker (tansu), no ROS."""

from __future__ import annotations

import itertools
import logging
import time
import uuid

import numpy as np
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource
from face_common.faces import FrameRef
from kafka_bridge.frame_intake import FrameIntake
from kafka_bridge.frame_record import FrameMeta, encode_image
from kafka_bridge.local_broker import LocalBroker
from kafka_bridge.outbox import Outbox, OutboxStats
from kafka_bridge.topics import (
    EVENTS_RETENTION_MS,
    FRAMES_RETENTION_BYTES,
    FRAMES_RETENTION_MS,
    ensure_topics,
    events_topic,
    frames_topic,
)

LOG = logging.getLogger("outbox-test")


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def producer_factory(bootstrap: str, **settings: object):
    def make(on_error):
        return Producer(
            {"bootstrap.servers": bootstrap, "enable.idempotence": True, "error_cb": on_error, **settings}
        )

    return make


def consume(bootstrap: str, topic: str, count: int, timeout_s: float = 20.0) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": unique("test"),
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
        }
    )
    consumer.subscribe([topic])
    records, deadline = [], time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        for record in consumer.consume(64, timeout=0.2):
            if record.error() is None:
                records.append(record)
    consumer.close()
    return records


def test_topics_are_created_once_with_retention(kafka_broker: LocalBroker) -> None:
    settings = {"bootstrap.servers": kafka_broker.bootstrap}
    frames, events = unique("frames"), unique("events")
    specs = [frames_topic(frames, partitions=3), events_topic(events, partitions=2)]
    assert sorted(ensure_topics(settings, specs)) == sorted([frames, events])
    assert ensure_topics(settings, specs) == []
    admin = AdminClient(settings)
    metadata = admin.list_topics(timeout=5)
    assert len(metadata.topics[frames].partitions) == 3 and len(metadata.topics[events].partitions) == 2
    described = admin.describe_configs([ConfigResource("topic", frames), ConfigResource("topic", events)])
    configs = {res.name: {k: c.value for k, c in f.result().items()} for res, f in described.items()}
    assert configs[frames]["retention.ms"] == str(FRAMES_RETENTION_MS)
    assert configs[frames]["retention.bytes"] == str(FRAMES_RETENTION_BYTES)
    assert configs[events]["retention.ms"] == str(EVENTS_RETENTION_MS)


def test_frames_keep_key_headers_and_per_camera_order(kafka_broker: LocalBroker) -> None:
    topic = unique("frames")
    ensure_topics({"bootstrap.servers": kafka_broker.bootstrap}, [frames_topic(topic, partitions=3)])
    outbox = Outbox(producer_factory(kafka_broker.bootstrap), topic, LOG, capacity=64, max_in_flight=8)
    cameras = ["door", "till-1", "till-2"]
    sent: dict[bytes, FrameMeta] = {}
    for seq, camera in zip(range(30), itertools.cycle(cameras), strict=False):
        image = np.full((72, 96, 3), seq * 8, np.uint8)
        meta = FrameMeta(FrameRef(camera, 1_000 + seq), seq, "jpeg", 96, 72)
        value = encode_image(image, "jpeg", 90)
        sent[value] = meta
        outbox.put(camera.encode(), value, meta.headers())
    assert outbox.flush(timeout_s=10) == OutboxStats(received=30, delivered=30)

    records = consume(kafka_broker.bootstrap, topic, 30)
    assert len(records) == 30
    intake = FrameIntake()
    by_camera: dict[str, list[int]] = {}
    for record in records:
        meta, image = intake.accept(record.value(), record.headers(), time.time_ns())
        assert meta == sent[record.value()]
        assert record.key() == meta.frame.camera_id.encode()
        assert abs(int(image.mean()) - meta.seq * 8) <= 2
        by_camera.setdefault(meta.frame.camera_id, []).append(meta.seq)
    assert by_camera == {camera: list(range(k, 30, 3)) for k, camera in enumerate(cameras)}


def test_outbox_survives_a_broker_restart_and_counts_what_it_lost() -> None:
    capacity, max_in_flight, frames = 5, 3, 30
    with LocalBroker() as broker:
        topic = unique("frames")
        ensure_topics({"bootstrap.servers": broker.bootstrap}, [frames_topic(topic, partitions=1)])
        make = producer_factory(
            broker.bootstrap, **{"message.timeout.ms": 3000, "reconnect.backoff.max.ms": 500}
        )
        outbox = Outbox(make, topic, LOG, capacity, max_in_flight)
        outbox.put(b"cam", b"before")
        assert outbox.flush(timeout_s=5).delivered == 1
        broker.kill()
        for n in range(frames):
            outbox.put(b"cam", str(n).encode())
        stats = outbox.stats
        assert stats.queued == capacity and stats.in_flight <= max_in_flight
        assert stats.received == stats.delivered + stats.dropped + stats.queued + stats.in_flight
        outbox.flush(timeout_s=3.5)  # the client gives up on what it holds after message.timeout.ms
        assert outbox.stats.failed >= 1 and outbox.stats.queued >= capacity - 1
        broker.start()
        ensure_topics({"bootstrap.servers": broker.bootstrap}, [frames_topic(topic, partitions=1)])
        stats = outbox.flush(timeout_s=15.0)
        assert stats.queued == stats.in_flight == 0 and stats.delivered > 1, stats
        assert stats.received == stats.delivered + stats.dropped + stats.failed == frames + 1
        # What got through is the newest frames, in order.
        values = [r.value() for r in consume(broker.bootstrap, topic, stats.delivered - 1)]
        assert values == [str(n).encode() for n in range(frames - len(values), frames)]
        assert len(values) == stats.delivered - 1


def test_a_refused_oversized_record_is_counted(kafka_broker: LocalBroker) -> None:
    topic = unique("frames")
    make = producer_factory(kafka_broker.bootstrap, **{"message.max.bytes": 10_000})
    outbox = Outbox(make, topic, LOG, capacity=4, max_in_flight=2)
    outbox.put(b"cam", bytes(20_000))
    outbox.put(b"cam", b"small")
    stats = outbox.flush(timeout_s=10)
    assert (stats.failed, stats.delivered) == (1, 1)
