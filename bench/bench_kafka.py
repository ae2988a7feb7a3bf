"""Frames through Kafka: Mbit/s per 720p camera at 12 fps for each payload encoding, and the
server side's sustained frames/s.

Frames are real video frames from the data folder's ``video/`` clips, letterboxed to 1280x720 as
``camera_node`` publishes them (enlarged clips compress somewhat better than a native 720p
sensor's frames). Each row sends ``--frames`` frames through a local tansu broker with the
bridge's own code (``Outbox`` on a real producer, as frames_out) and consumes them as frames_in
does (consumer, ``FrameIntake`` decode to BGR, ``sensor_msgs/Image``), timing the consumer from
its first record to its last. Medians over ``--repeats``.
Run: ``python bench/bench_kafka.py [--frames 60] [--repeats 3] [--json]``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
import uuid

import cv2
import numpy as np
from bench_common import (
    DATA_ROOT,
    FRAME_SIZE,
    add_output_arguments,
    describe_machine,
    emit,
    format_records,
    machine_info,
    video_frames,
)
from confluent_kafka import Consumer, Producer
from face_common.faces import FrameRef
from face_common.images import array_to_image_msg
from kafka_bridge.frame_intake import FrameIntake
from kafka_bridge.frame_record import FrameMeta, encode_image, source_encoding
from kafka_bridge.local_broker import LocalBroker
from kafka_bridge.outbox import Outbox
from kafka_bridge.topics import MAX_FRAME_BYTES, ensure_topics, frames_topic

FPS = 12.0
ROWS = [("jpeg", 70), ("jpeg", 85), ("jpeg", 95), ("mono8", 0), ("bgr8", 0)]


def encode_all(frames: list[np.ndarray], encoding: str, quality: int) -> tuple[list[bytes], float]:
    """Payloads and the median encode time per frame (ms), as frames_out does it."""
    payloads, times_ms = [], []
    for frame in frames:
        image = frame if source_encoding(encoding) == "bgr8" else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        t0 = time.perf_counter()
        payloads.append(encode_image(image, encoding, quality))
        times_ms.append((time.perf_counter() - t0) * 1000)
    return payloads, statistics.median(times_ms)


def through_broker(bootstrap: str, encoding: str, payloads: list[bytes]) -> float:
    """Produce all payloads, then consume, decode and wrap them; consumer frames/s."""
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    ensure_topics({"bootstrap.servers": bootstrap}, [frames_topic(topic, partitions=1)])
    settings = {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "message.max.bytes": MAX_FRAME_BYTES,
    }
    outbox = Outbox(
        lambda on_error: Producer({**settings, "error_cb": on_error}),
        topic,
        logging.getLogger("bench"),
        capacity=len(payloads),
        max_in_flight=32,
    )
    for seq, payload in enumerate(payloads):
        meta = FrameMeta(FrameRef("bench", time.time_ns()), seq, encoding, *FRAME_SIZE)
        outbox.put(b"bench", payload, meta.headers())
    stats = outbox.flush(timeout_s=60)
    if stats.delivered != len(payloads):
        raise RuntimeError(f"broker took {stats.delivered} of {len(payloads)} frames: {stats}")
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": topic,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "max.partition.fetch.bytes": MAX_FRAME_BYTES,
        }
    )
    consumer.subscribe([topic])
    intake, done, started = FrameIntake(), 0, 0.0
    deadline = time.monotonic() + 60
    while done < len(payloads) and time.monotonic() < deadline:
        for record in consumer.consume(32, timeout=0.1):
            if record.error() is not None:
                continue
            if not started:  # from the first record: the group join is not throughput
                started = time.perf_counter()
            meta, image = intake.accept(record.value(), record.headers(), time.time_ns())
            array_to_image_msg(image, "bgr8")
            done += 1
    elapsed = time.perf_counter() - started
    consumer.close()
    return (done - 1) / elapsed if done > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=60, help="frames per clip and row")
    parser.add_argument("--repeats", type=int, default=3)
    add_output_arguments(parser)
    args = parser.parse_args()
    frames = video_frames(sorted((DATA_ROOT / "video").glob("*.mp4")), args.frames, consecutive=True)
    rows = []
    with LocalBroker() as broker:
        for encoding, quality in ROWS:
            payloads, encode_ms = encode_all(frames, encoding, quality)
            mean_bytes = statistics.fmean(len(p) for p in payloads)
            rates = [through_broker(broker.bootstrap, encoding, payloads) for _ in range(args.repeats)]
            rows.append(
                {
                    "encoding": encoding if encoding != "jpeg" else f"jpeg q{quality}",
                    "kb_per_frame": round(mean_bytes / 1000, 1),
                    "mbit_s_at_12fps": round(mean_bytes * 8 * FPS / 1e6, 1),
                    "encode_ms": round(encode_ms, 2),
                    "consumer_fps": round(statistics.median(rates), 1),
                }
            )
    report = {"machine": machine_info(), "frames": len(frames), "repeats": args.repeats, "rows": rows}
    columns = {
        "encoding": "encoding",
        "KB/frame": "kb_per_frame",
        "Mbit/s @12fps": "mbit_s_at_12fps",
        "encode ms": "encode_ms",
        "consumer fps": "consumer_fps",
    }
    emit(
        args,
        report,
        lambda: (
            f"{describe_machine(report['machine'])}\n"
            f"{len(frames)} frames of 1280x720 per row, median of {args.repeats}\n"
            + format_records(columns, rows, 2)
        ),
    )


if __name__ == "__main__":
    main()
