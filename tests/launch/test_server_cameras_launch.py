"""Two Pis and one server over Kafka: ``launch/pi.launch.yaml`` once per camera and
``launch/server_cameras.launch.yaml`` (one frames_in for both camera ids, detection, age/gender and
events_out per camera, one identity node, one sink) as separate ``graph_launch`` process groups,
through a real broker (tansu on loopback). Both cameras' events reach the one sink and the events
topic, and the person both cameras see has one face ID."""

from __future__ import annotations

import itertools
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from graph_launcher.command_line import resolve_executable
from kafka_bridge.event_record import decode_event
from kafka_bridge.local_broker import LocalBroker
from local_graph import CAMERAS, REPO, two_camera_recordings
from ros_processes import RosProcesses, exit_counters, launched_node_log, wait_until


@pytest.fixture
def broker() -> Iterator[LocalBroker]:
    broker = LocalBroker()
    broker.start()
    yield broker
    broker.stop()


def launch(launch_file: str, env: dict[str, str], log: Path, **arguments: object) -> subprocess.Popen:
    command = [resolve_executable("graph_launcher", "graph_launch"), "--shutdown-grace", "3"]
    command += [
        str(REPO / "launch" / launch_file),
        *(f"{name}:={value}" for name, value in arguments.items()),
    ]
    with log.open("w") as out:
        return subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def topic_events(bootstrap: str, topic: str, count: int, timeout_s: float = 30.0) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,  # tansu lets a group join after about half of it
        }
    )
    consumer.subscribe([topic])
    records, deadline = [], time.monotonic() + timeout_s
    try:
        while len(records) < count and time.monotonic() < deadline:
            records += [r for r in consumer.consume(64, timeout=0.2) if r.error() is None]
    finally:
        consumer.close()
    return [decode_event(r.value()) for r in records]


def test_two_pis_and_one_server_share_one_gallery(
    ros_graph: RosProcesses, broker: LocalBroker, face_data: Path, tmp_path: Path
) -> None:
    sources = two_camera_recordings(face_data, tmp_path)
    kafka = {"broker": broker.bootstrap, "frames_topic": f"frames-{uuid.uuid4().hex[:8]}"}
    events_topic, database = f"events-{uuid.uuid4().hex[:8]}", tmp_path / "events.sqlite"
    began = time.monotonic()
    server = launch(
        "server_cameras.launch.yaml",
        ros_graph.env,
        tmp_path / "server.log",
        cam1_id="door",
        cam2_id="till",
        events_topic=events_topic,
        group_id=f"frames_in-{uuid.uuid4().hex[:8]}",
        fps="1.0",  # photos 1 s apart: detected, not tracked
        gallery=tmp_path / "gallery.sqlite",
        database=database,
        exit_when_idle_s="5.0",
        **kafka,
    )
    server_log = (tmp_path / "server.log").read_text
    pis: list[subprocess.Popen] = []
    try:
        # Ready when every camera's stages and the shared ones have subscribed: no frame is lost.
        topics = {f"/server/{c}/{t}": 1 for c, t in itertools.product(CAMERAS, ("image_raw", "faces"))}
        topics |= {f"/server/{c}/faces_identified": 1 for c in CAMERAS}
        topics |= {f"/server/{c}/faces_attributed": 2 for c in CAMERAS}  # events_out and the sink
        ready = wait_until(
            lambda: (
                all(ros_graph.node.count_subscribers(t) >= n for t, n in topics.items())
                or server.poll() is not None
            ),
            timeout_s=120,
            poll_s=0.1,
        )
        assert ready and server.poll() is None, server_log()
        for camera in CAMERAS:
            pis.append(
                launch(
                    "pi.launch.yaml",
                    ros_graph.env,
                    tmp_path / f"pi_{camera}.log",
                    camera_id=camera,
                    source=sources[camera],
                    fps="1.0",
                    **kafka,
                )
            )
        for camera, pi in zip(CAMERAS, pis, strict=True):
            assert pi.wait(timeout=90) == 0, (tmp_path / f"pi_{camera}.log").read_text()
        assert server.wait(timeout=120) == 0, server_log()
    finally:
        for process in (*pis, server):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=40)
    print(f"\nserver_cameras.launch.yaml + 2 x pi.launch.yaml: {time.monotonic() - began:.1f} s")
    log = server_log()
    assert exit_counters(launched_node_log(log, "frames_in"))["decoded"] == 6, log[-4000:]

    con = sqlite3.connect(database)
    rows = con.execute(
        "SELECT camera_id, stamp_ns, face_id FROM face_events ORDER BY camera_id, stamp_ns"
    ).fetchall()
    con.close()
    frames = {
        camera: [
            {face_id for *_, face_id in group} for _, group in itertools.groupby(camera_rows, lambda r: r[1])
        ]
        for camera, camera_rows in itertools.groupby(rows, lambda r: r[0])
    }
    print(f"face IDs per camera and frame: {frames}")
    assert [len(frames.get(camera, [])) for camera in CAMERAS] == [3, 3], "every frame of both cameras"
    assert frames["door"][1] == frames["till"][1], "Obama has one face ID on both cameras"
    assert frames["door"][0] == frames["door"][2] and frames["till"][0] == frames["till"][2]
    assert len({frozenset(ids) for camera_frames in frames.values() for ids in camera_frames}) == 3
    on_topic = topic_events(broker.bootstrap, events_topic, len(rows))
    assert sorted((e.camera_id, e.stamp_ns, e.face_id) for e in on_topic) == sorted(rows)
