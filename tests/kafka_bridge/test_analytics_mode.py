"""Analytics mode loses no frame: a Kafka backlog analysed at the chain's pace (issue 12).

The clip's first ``FRAMES`` frames are in the frames topic before the server starts, so
``frames_in`` meets them as one backlog, as a server that was down or slower than its cameras
does (before flow control, the burst on ``image_raw`` overflowed the detector's queue and most
frames were lost, uncounted). ``launch/server.launch.yaml`` in analytics mode (``max_frame_age_s``
0), its sink writing to MariaDB, then runs twice in a row over the same frames, each run with a
consumer group, gallery and empty table of its own. Each run: every stage's counters say every
frame published was consumed and analysed, the group's committed offsets cover every frame, and
MySQL holds exactly the rows offline processing (``face_offline``'s cores) makes of the same
frames with the same settings.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from urllib.parse import urlsplit

from confluent_kafka import Consumer, Producer, TopicPartition
from face_analytics.pipeline import SourceFrame
from face_common.faces import FaceEvent, FrameRef
from face_sink.mysql_store import PASSWORD_ENV
from face_sink.schema import EventStore
from kafka_bridge.frame_record import FrameMeta, decode_image, encode_image
from kafka_bridge.local_broker import LocalBroker
from kafka_bridge.topics import ensure_topics, frames_topic
from ros_processes import RosProcesses, exit_counters, status_values, wait_until
from test_deployment import (
    AGEGENDER,
    DETECTOR,
    FPS,
    JPEG_QUALITY,
    Graph,
    clip_frames,
    differences,
    offline_events,
    per_frame,
    unique,
)

CAMERA = "cam1"
FRAMES = 48
RUNS = 2
NODES = ("frames_in", "face_detect", "identity", "agegender", "sink")
"""The server's nodes on the frames' way, by their launch names."""


def publish_clip(bootstrap: str, topic: str) -> list[SourceFrame]:
    """The clip's first ``FRAMES`` frames into ``topic`` as frames_out sends them (JPEG, 4 fps
    stamps), all acknowledged by the broker; returned as decoded from those very records."""
    ensure_topics({"bootstrap.servers": bootstrap}, [frames_topic(topic, partitions=1)])
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    start_ns, frames = time.time_ns(), []
    for seq, image in enumerate(itertools.islice(clip_frames(), FRAMES)):
        meta = FrameMeta(
            FrameRef(CAMERA, start_ns + round(seq * 1e9 / FPS)), seq, "jpeg", *image.shape[1::-1]
        )
        value = encode_image(image, "jpeg", JPEG_QUALITY)
        producer.produce(topic, value, CAMERA.encode(), headers=meta.headers())
        frames.append(SourceFrame(meta.frame, decode_image(meta, value), f"seq {seq}"))
    assert producer.flush(30) == 0 and len(frames) == FRAMES
    return frames


def committed_offsets(bootstrap: str, topic: str, group_id: str) -> int:
    """The consumer group's committed offset of the topic's one partition (-1001: none)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False})
    try:
        return consumer.committed([TopicPartition(topic, 0)], timeout=10)[0].offset
    finally:
        consumer.close()


def analyse_backlog(
    ros_graph: RosProcesses, kafka_broker: LocalBroker, mariadb: str, topic: str, run_dir: Path
) -> tuple[dict[str, dict[str, int]], str]:
    """One server run over the whole backlog: each node's final counters, and the group id."""
    parts = urlsplit(mariadb)
    group_id = unique("frames_in")
    sink_health = ros_graph.diagnostics(f"/server/{CAMERA}/sink")
    server = Graph(
        "server.launch.yaml",
        run_dir / "server.log",
        {**ros_graph.env, PASSWORD_ENV: parts.password},
        camera_id=CAMERA,
        broker=kafka_broker.bootstrap,
        frames_topic=topic,
        events_topic=unique("events"),
        group_id=group_id,
        max_frame_age_s=0.0,  # analytics (a float parameter)
        detector=DETECTOR,
        fps=FPS,
        agegender_backend=AGEGENDER,
        gallery=run_dir / "gallery.sqlite",
        database=f"mysql://{parts.username}@{parts.hostname}:{parts.port}{parts.path}",
    )
    try:
        # Done when the sink has written every frame: its diagnostics, once a second.
        done = wait_until(
            lambda: (
                (bool(sink_health) and int(status_values(sink_health[-1])["frames"]) >= FRAMES)
                or server.process.poll() is not None
            ),
            timeout_s=120,
            poll_s=0.2,
        )
    finally:
        server.stop()
    log = server.log()
    counters = {node: exit_counters(server.node_log(node)) for node in NODES}
    assert done and server.process.returncode == 0, f"{counters}\n{log}"
    return counters, group_id


def test_analytics_mode_analyses_every_frame_of_a_backlog_twice_in_a_row(
    ros_graph: RosProcesses,
    kafka_broker: LocalBroker,
    mariadb: str,
    mysql_store: EventStore,
    tmp_path: Path,
) -> None:
    topic = unique("frames")
    frames = publish_clip(kafka_broker.bootstrap, topic)
    offline = offline_events(frames, tmp_path)
    assert len({e.face_id for e in offline}) >= 2 and len(offline) >= 20  # a test worth its time
    for run in range(1, RUNS + 1):
        run_dir = tmp_path / f"run{run}"
        run_dir.mkdir()
        mysql_store.purge_older_than(1e-9, now_ns=2**62)
        started = time.monotonic()
        counters, group_id = analyse_backlog(ros_graph, kafka_broker, mariadb, topic, run_dir)
        rows: list[FaceEvent] = mysql_store.read_events()
        print(
            f"\nrun {run} ({time.monotonic() - started:.0f} s): {FRAMES} frames published; "
            + "; ".join(f"{node} {values}" for node, values in counters.items())
            + f"; MySQL {len(rows)} rows, offline {len(offline)}"
        )
        frames_in = counters["frames_in"]
        assert frames_in["received"] == frames_in["decoded"] == frames_in["published"] == FRAMES, counters
        assert frames_in["acknowledged"] == FRAMES and frames_in["in_flight"] == 0, counters
        lost = ("too_old", "no_analysis", "window_full", "bad", "unpublishable", "unacknowledged")
        assert all(frames_in[reason] == 0 for reason in lost), counters
        assert [counters[node]["frames"] for node in NODES[1:]] == [FRAMES] * 4, counters
        assert committed_offsets(kafka_broker.bootstrap, topic, group_id) == FRAMES
        assert per_frame(rows) == per_frame(offline)
        assert differences(rows, offline) == []
