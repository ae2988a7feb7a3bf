"""The deployed topology on real servers: Pi half and server half from their launch files.

tansu and MariaDB run as in production (``kafka_broker``, ``mariadb``); ``launch/server.launch.yaml``
and ``launch/pi.launch.yaml`` run as two separate ``graph_launch`` process groups in one DDS
domain of their own (the server in the ``/server`` namespace); the camera plays the bundled clip
(analytics mode: ``max_frame_age_s`` 0); ``events_to_db`` writes the events topic into MySQL.
The result must be what offline processing (``face_analytics.pipeline.process_frames``, the cores
the nodes run, same backends) makes of the very frames that crossed Kafka: per frame, in order,
the same (face_index, face_id, gender, age) -- in MySQL, on the events topic and in the server's
own sink. Offline processing reads the frames back from the frames topic, with their capture
stamps, so the two runs share even their natural keys; each of those frames is checked to be the
clip's frame after the same JPEG round trip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
from agegender_node.attribution import AttributionSettings
from bridge_support import REPO
from confluent_kafka import Consumer
from face_analytics.pipeline import SourceFrame, open_pipeline, process_frames
from face_common.faces import FaceEvent
from face_detect_node.detection import DetectionConfig
from face_sink.mysql_store import PASSWORD_ENV
from face_sink.schema import EventStore, open_sqlite_store
from graph_launcher.command_line import resolve_executable
from identity_node.identification import IdentitySettings
from kafka_bridge.event_record import decode_event
from kafka_bridge.frame_intake import FrameIntake
from kafka_bridge.frame_record import decode_image, encode_image
from kafka_bridge.local_broker import LocalBroker
from ros_processes import RosProcesses, exit_counters, launched_node_log, wait_until

CLIP = REPO / "samples" / "video" / "short_hamilton_clip.mp4"
CAMERA = "cam1"
FRAMES = 40  # 10 s at 4 fps; the clip's first 40 frames hold 3 people, 1-2 faces a frame
FPS = 4.0
JPEG_QUALITY = 85
DETECTOR = "haar"
AGEGENDER = "dlib_onnx"
GROUP_SESSION_MS = 6000


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


class Graph:
    """One ``graph_launch`` process group, its output in a file."""

    def __init__(self, launch_file: str, log_path: Path, env: dict[str, str], **arguments: object) -> None:
        self.log_path = log_path
        command = [
            resolve_executable("graph_launcher", "graph_launch"),
            "--shutdown-grace",
            "3",
            str(REPO / "launch" / launch_file),
        ]
        command += [f"{name}:={value}" for name, value in arguments.items()]
        with log_path.open("w") as log:
            self.process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text()

    def node_log(self, label: str) -> str:
        return launched_node_log(self.log(), label)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def read_topic(bootstrap: str, topic: str, count: int, timeout_s: float = 30.0) -> list:
    """The first ``count`` records of ``topic`` (all partitions), read by a group of its own."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": unique("reader"),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": GROUP_SESSION_MS,
            "max.partition.fetch.bytes": 16 * 1024**2,
        }
    )
    consumer.subscribe([topic])
    records, deadline = [], time.monotonic() + timeout_s
    try:
        while len(records) < count and time.monotonic() < deadline:
            records += [r for r in consumer.consume(64, timeout=0.2) if r.error() is None]
    finally:
        consumer.close()
    return records


def per_frame(events: Iterable[FaceEvent]) -> list[tuple[int, list[tuple[int, int, str, float]]]]:
    """Events as frames in capture order: (stamp, [(face_index, face_id, gender, age to 0.1)])."""
    frames: dict[int, list] = defaultdict(list)
    for e in sorted(events, key=lambda e: (e.stamp_ns, e.face_index)):
        frames[e.stamp_ns].append((e.face_index, e.face_id, e.gender, round(e.age, 1)))
    return sorted(frames.items())


def clip_frames() -> Iterator[np.ndarray]:
    """The clip's frames as the camera reads them (OpenCV), already 640x360: no resize."""
    capture = cv2.VideoCapture(str(CLIP))
    try:
        while (frame := capture.read())[0]:
            yield frame[1]
    finally:
        capture.release()


def same_value(found: object, expected: object) -> bool:
    """Equal, floats to float32: the face messages carry age, distance and scores as float32."""
    if isinstance(found, float) and isinstance(expected, float):
        return np.float32(found) == np.float32(expected)
    return found == expected


def differences(found: Iterable[FaceEvent], expected: Iterable[FaceEvent]) -> list[tuple]:
    """(key, field, found, expected) for every field that differs; keys only on one side too."""
    found_by_key = {(e.camera_id, e.stamp_ns, e.face_index): e.as_dict() for e in found}
    expected_by_key = {(e.camera_id, e.stamp_ns, e.face_index): e.as_dict() for e in expected}
    diffs = [(k, "missing", None, None) for k in expected_by_key.keys() - found_by_key.keys()]
    diffs += [(k, "extra", None, None) for k in found_by_key.keys() - expected_by_key.keys()]
    for k in found_by_key.keys() & expected_by_key.keys():
        diffs += [
            (k, name, value, expected_by_key[k][name])
            for name, value in found_by_key[k].items()
            if not same_value(value, expected_by_key[k][name])
        ]
    return sorted(diffs, key=str)


def offline_events(frames: list[SourceFrame], workdir: Path) -> list[FaceEvent]:
    """What face_offline's cores make of ``frames`` with the server's backends and a fresh gallery."""
    detection = DetectionConfig(detector=DETECTOR, frame_rate=FPS)
    store = open_sqlite_store(workdir / "offline_events.sqlite")
    try:
        models = str(REPO / "models")
        identity = IdentitySettings(model_dir=models)
        attribution = AttributionSettings(backend=AGEGENDER, model_dir=models)
        with open_pipeline(detection, identity, attribution, workdir / "offline_gallery.sqlite") as pipeline:
            counters = process_frames(frames, pipeline, store)
        assert counters.unreadable_frames == counters.skipped_faces == 0
        return store.read_events()
    finally:
        store.close()


def test_pi_and_server_over_kafka_write_the_offline_events_to_mysql(
    ros_graph: RosProcesses,
    kafka_broker: LocalBroker,
    mariadb: str,
    mysql_store: EventStore,
    tmp_path: Path,
) -> None:
    env = ros_graph.env  # the test's own domain, the nodes' Fast DDS profile
    frames_topic, events_topic = unique("frames"), unique("events")
    kafka = {"broker": kafka_broker.bootstrap, "frames_topic": frames_topic}
    server_sqlite = tmp_path / "server_events.sqlite"
    parts = urlsplit(mariadb)
    server = Graph(
        "server.launch.yaml",
        tmp_path / "server.log",
        env,
        camera_id=CAMERA,
        events_topic=events_topic,
        group_id=unique("frames_in"),
        max_frame_age_s=0.0,  # analytics: every frame, however late (a float parameter)
        detector=DETECTOR,
        fps=FPS,
        agegender_backend=AGEGENDER,
        gallery=tmp_path / "gallery.sqlite",
        database=f"sqlite:///{server_sqlite}",
        **kafka,
    )
    sink_log = tmp_path / "events_to_db.log"
    with sink_log.open("w") as log:
        events_to_db = subprocess.Popen(
            [
                resolve_executable("face_analytics", "events_to_db"),
                *("--bootstrap-servers", kafka_broker.bootstrap, "--topic", events_topic),
                *("--group-id", unique("events_to_db"), "--session-timeout-ms", str(GROUP_SESSION_MS)),
                *("--database", f"mysql://{parts.username}@{parts.hostname}:{parts.port}{parts.path}"),
                *("--stats-period-s", "2"),
            ],
            env={**os.environ, PASSWORD_ENV: parts.password},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    pi = None
    try:
        # The server is ready when every stage has subscribed and frames_in has joined its group:
        # from then on no frame can reach a stage that is not listening yet.
        ns = f"/server/{CAMERA}"
        # faces_attributed: events_out and the sink; faces_stored: frames_in (the sink's
        # acknowledgement of each frame).
        subscribers = {"image_raw": 1, "faces": 1, "faces_identified": 1, "faces_attributed": 2}
        subscribers["faces_stored"] = 1
        ready = wait_until(
            lambda: (
                (
                    all(ros_graph.node.count_subscribers(f"{ns}/{t}") >= n for t, n in subscribers.items())
                    and ros_graph.node.count_publishers(f"{ns}/image_raw") >= 1
                    and "assigned partitions" in server.node_log("frames_in")
                )
                or server.process.poll() is not None
            ),
            timeout_s=90,
            poll_s=0.1,
        )
        assert ready and server.process.poll() is None, server.log()
        pi = Graph(
            "pi.launch.yaml",
            tmp_path / "pi.log",
            env,
            camera_id=CAMERA,
            source=CLIP,
            fps=FPS,
            width=640,
            height=360,
            max_frames=FRAMES,
            jpeg_quality=JPEG_QUALITY,
            **kafka,
        )
        assert pi.process.wait(timeout=90) == 0, pi.log()
        frames_out = exit_counters(pi.node_log("frames_out"))
        assert frames_out["delivered"] == frames_out["received"] >= FRAMES - 2, pi.log()

        # Offline processing of the frames that crossed Kafka, while the server still works.
        intake = FrameIntake()
        crossed = []
        for record in read_topic(kafka_broker.bootstrap, frames_topic, frames_out["delivered"]):
            meta, image = intake.accept(record.value(), record.headers(), 0)
            crossed.append((meta, image))
        assert len(crossed) == frames_out["delivered"]
        crossed.sort(key=lambda item: item[0].seq)
        clip = clip_frames()
        for meta, image in crossed:  # the clip's frames, in order (DDS may have dropped one or two)
            for clip_image in clip:
                if np.array_equal(decode_image(meta, encode_image(clip_image, "jpeg", JPEG_QUALITY)), image):
                    break
            else:
                pytest.fail(f"frame {meta.seq} is not the clip's next frame after the JPEG round trip")
        offline = offline_events(
            [SourceFrame(meta.frame, image, f"seq {meta.seq}") for meta, image in crossed], tmp_path
        )
        assert len({e.face_id for e in offline}) >= 2 and len(offline) >= 20  # a test worth its time

        in_mysql = wait_until(lambda: mysql_store.count_events() >= len(offline), timeout_s=90, poll_s=0.5)
        time.sleep(1.0)  # anything beyond the expected rows would show up now
        events = mysql_store.read_events()
        assert in_mysql, f"{mysql_store.count_events()} of {len(offline)} events in MySQL\n{server.log()}"
        on_topic = [
            decode_event(r.value()) for r in read_topic(kafka_broker.bootstrap, events_topic, len(offline))
        ]
    finally:
        for graph in (pi, server):
            if graph is not None:
                graph.stop()
        events_to_db.send_signal(signal.SIGTERM)
        events_to_db.wait(timeout=30)
    server_log = server.log()
    sink_stats = exit_counters(sink_log.read_text(), "stats: ")
    print(
        f"\n{len(crossed)} frames crossed Kafka; offline: {len(offline)} events, "
        f"{len({e.face_id for e in offline})} face IDs; MySQL: {len(events)}; events_to_db {sink_stats}"
    )
    assert per_frame(events) == per_frame(offline), server_log
    assert differences(events, offline) == []  # boxes, distances, new/repeat too
    assert differences(on_topic, events) == []
    assert sink_stats["undecodable"] == sink_stats["invalid"] == sink_stats["pending"] == 0
    server_sink = open_sqlite_store(server_sqlite)
    try:
        assert per_frame(server_sink.read_events()) == per_frame(events)  # the sink node, from a URL
    finally:
        server_sink.close()
    assert parts.password not in server_log + sink_log.read_text()
