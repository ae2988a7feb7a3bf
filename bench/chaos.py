"""Chaos run of the Kafka + MariaDB deployment: a recorded store day under random ``kill -9``s.

The bundled clip plays through ``camera_node`` + ``frames_out`` into a tansu broker; the server's
nodes (``frames_in``, ``face_detect``, ``identity``, ``agegender``, ``events_out``, ``face_sink``)
and ``events_to_db`` run as separate processes with the launch files' params files (analytics
mode, ``max_frame_age_s`` 0), the sink and ``events_to_db`` both writing the same MariaDB (rows
are keyed, so the two writers are idempotent). A seeded RNG picks the victims and the kill
points; a kill point is a number of frames the sink has acknowledged (``faces_stored``), never a
wall-clock time, so a run is the same on a fast and a slow machine. Each victim is killed with
SIGKILL and started again at once: a node on its params, the broker on its port, MariaDB on its
data directory.

The tansu broker bundled here keeps its data in memory only (its binary has neither the libsql
nor the postgres engine), so a broker kill loses what it held: frames not yet consumed, the events
topic, committed offsets. That loss is counted, not hidden; production Kafka keeps its log.

Expected events are ``face_offline``'s cores on the same frames (JPEG round trip, recorded stamps)
with the same settings. The report: frames published, acknowledged, events expected and stored,
duplicates by natural key (MySQL and, as information, the events topic), face IDs reused, the
gallery's state at every identity start, and each lost frame attributed to the kill it was in
flight at.

Run: ``python bench/chaos.py [--kills 10] [--frames 160] [--seed 1] [--workdir DIR] [--json]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import rclpy
from agegender_node.attribution import AttributionSettings
from camera_node.sources import parse_start, source_fps
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from face_analytics.pipeline import SourceFrame, open_pipeline, process_frames
from face_common.faces import FaceEvent, FrameRef
from face_common.ros_msgs import FACES_QOS, FacesMsg
from face_detect_node.detection import DetectionConfig
from face_sink.mysql_store import PASSWORD_ENV, open_store
from face_sink.schema import open_sqlite_store
from graph_launcher.command_line import resolve_executable
from graph_launcher.dds_env import find_dds_profile, node_environment
from identity_node.identification import IdentitySettings
from kafka_bridge.event_record import decode_event
from kafka_bridge.frame_record import FrameMeta, decode_image, encode_image
from kafka_bridge.local_broker import LocalBroker, free_port
from kafka_bridge.topics import ensure_topics, events_topic, frames_topic
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Header

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "samples" / "video" / "short_hamilton_clip.mp4"
CAMERA = "cam1"
SERVER_NS = f"server/{CAMERA}"
RECORDED_START = "2024-05-01T09:00:00"
JPEG_QUALITY = 85
DETECTOR = "haar"
AGEGENDER = "dlib_onnx"
DETECT_EVERY = 1
"""Every frame detected: a restarted detector then finds what offline processing finds, whatever
frame it restarts on (with 3, its detection frames would shift by the restart)."""
NODE_VICTIMS = ("frames_out", "frames_in", "face_detect", "identity", "agegender", "sink", "events_out")
VICTIMS = (*NODE_VICTIMS, "events_to_db", "broker", "mariadb")
BEFORE_SINK = ("frames_in", "face_detect", "identity", "agegender")
"""Kills of the analysis chain: Kafka redelivers what was not acknowledged, the faces topics'
transient-local histories what a restarted stage missed: nothing should be lost either."""
READY = {
    "frames_out": "sending /",
    "frames_in": "assigned partitions",
    "face_detect": "subscribed to",
    "identity": "last_face_id=",
    "agegender": "backend=",
    "events_out": "sending events from",
    "sink": "writing face events to",
    "events_to_db": "Kafka: bootstrap.servers",
}
"""A line each process logs once it works: a kill's window lasts until its victim logged it again."""
QUIET_S = 20.0
"""With the camera done, this long without an acknowledgement ends a wait: the rest was lost."""
MAX_IN_FLIGHT = 4
"""frames_in's ``max_in_flight`` (config/frames_in.yaml): frames of a camera in the chain at once."""
LOSSY = ("frames_out", "broker")
"""Kills that may lose frames: the Pi's camera publishes best effort while frames_out is down, and
the memory-only broker loses the frames it held."""


@dataclass(frozen=True)
class Node:
    """How one node process is started: as its launch file does, from config/<executable>.yaml."""

    package: str
    executable: str
    namespace: str
    params: dict[str, object]


@dataclass
class Kill:
    """One kill: what, once which frame is acknowledged, and the frames in flight around it (from
    the first not acknowledged to the camera's newest when the victim works again; -1: not done)."""

    victim: str
    at_seq: int
    in_flight_from: int = -1
    in_flight_to: int = -1
    restart_s: float = 0.0
    lost_frames: int = 0
    lost_events: int = 0


@dataclass
class ChaosReport:
    seed: int
    frames_published: int = 0
    frames_acknowledged: int = 0
    events_expected: int = 0
    events_stored: int = 0
    events_lost: int = 0
    frames_lost: int = 0
    events_extra: int = 0
    duplicates_mysql: int = 0
    duplicates_topic: int = 0
    collisions: int = 0
    topic_records: int = 0
    face_ids_reused: int = 0
    face_ids_split: int = 0
    gallery_loads: list[int] = field(default_factory=list)
    identity_starts: int = 0
    lost_outside_kills: list[int] = field(default_factory=list)
    """The frames lost that no kill had in flight (their numbers)."""
    kills: list[Kill] = field(default_factory=list)
    wall_s: float = 0.0


def stamp_ns(header: Header) -> int:
    return header.stamp.sec * 1_000_000_000 + header.stamp.nanosec


class MariaDb:
    """``scripts/start_mariadb.sh`` on a fixed data directory, port and password: restartable."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "mariadb"
        self.port = free_port()
        self.password = uuid.uuid4().hex
        self.log_path = workdir / "logs" / "mariadb.log"
        self.process: subprocess.Popen | None = None
        self.dsn = ""

    def start(self) -> str:
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [
                    "bash",
                    str(REPO / "scripts" / "start_mariadb.sh"),
                    "--dir",
                    str(self.dir),
                    "--port",
                    str(self.port),
                ],
                env={**os.environ, "MARIADB_PASSWORD": self.password},
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
            )
        assert self.process.stdout is not None
        self.dsn = self.process.stdout.readline().strip()
        if not self.dsn.startswith("mysql://"):
            raise RuntimeError(f"MariaDB did not start: {self.log_path.read_text()[-2000:]}")
        return self.dsn

    def kill(self) -> None:
        """SIGKILL the server itself (not the script), as a crash would; the script then ends."""
        os.kill(int((self.dir / "mariadb.pid").read_text()), signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)

    @property
    def url(self) -> str:
        """The DSN without the password (that comes from ``$FACE_DB_PASSWORD``)."""
        return self.dsn.replace(f":{self.password}@", "@")


class Progress:
    """Frames the sink acknowledged and frames the camera published, seen from a node of ours."""

    def __init__(self, domain_id: int, start_ns: int, clip_fps: float) -> None:
        self.start_ns, self.clip_fps = start_ns, clip_fps
        self.acked: set[int] = set()
        self.camera_seq = -1
        self.lock = threading.Lock()
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node("chaos_observer", context=self.context)
        self.node.create_subscription(FacesMsg, f"/{SERVER_NS}/faces_stored", self._on_ack, FACES_QOS)
        self.node.create_subscription(Image, f"/{CAMERA}/image_raw", self._on_frame, qos_profile_sensor_data)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.thread.start()

    def seq(self, stamp_ns: int) -> int:
        return round((stamp_ns - self.start_ns) * self.clip_fps / 1e9)

    def _on_ack(self, msg: FacesMsg) -> None:
        with self.lock:
            self.acked.add(self.seq(stamp_ns(msg.header)))

    def _on_frame(self, msg: Image) -> None:
        self.camera_seq = max(self.camera_seq, self.seq(stamp_ns(msg.header)))

    def _spin(self) -> None:
        while self.context.ok():
            self.executor.spin_once(timeout_sec=0.05)

    def newest(self) -> int:
        """The newest frame acknowledged (-1: none yet)."""
        with self.lock:
            return max(self.acked, default=-1)

    def oldest_in_flight(self) -> int:
        """The oldest frame that may be in the chain: frames_in holds at most ``MAX_IN_FLIGHT``
        unacknowledged, so older unacknowledged frames were lost before."""
        with self.lock:
            newest = max(self.acked, default=-1)
            window = range(max(0, newest - MAX_IN_FLIGHT + 1), newest + 1)
            return min((seq for seq in window if seq not in self.acked), default=newest + 1)

    def acked_count(self) -> int:
        with self.lock:
            return len(self.acked)

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self.thread.join(timeout=2.0)


def recorded_frames(count: int, start_ns: int, rate: float) -> list[SourceFrame]:
    """The clip's first ``count`` frames as they reach the server: JPEG round trip, recorded stamps."""
    capture = cv2.VideoCapture(str(CLIP))
    frames = []
    try:
        for seq in range(count):
            ok, image = capture.read()
            if not ok:
                break
            meta = FrameMeta(
                FrameRef(CAMERA, start_ns + round(seq * 1e9 / rate)), seq, "jpeg", *image.shape[1::-1]
            )
            frames.append(
                SourceFrame(
                    meta.frame, decode_image(meta, encode_image(image, "jpeg", JPEG_QUALITY)), f"seq {seq}"
                )
            )
    finally:
        capture.release()
    return frames


def offline_events(frames: list[SourceFrame], workdir: Path, fps: float) -> list[FaceEvent]:
    """What face_offline's cores make of ``frames`` with the nodes' settings and a fresh gallery."""
    models = str(REPO / "models")
    workdir.mkdir(parents=True, exist_ok=True)
    store = open_sqlite_store(workdir / "offline_events.sqlite")
    try:
        detection = DetectionConfig(detector=DETECTOR, frame_rate=fps, detect_every=DETECT_EVERY)
        identity = IdentitySettings(model_dir=models)
        attribution = AttributionSettings(backend=AGEGENDER, model_dir=models)
        with open_pipeline(detection, identity, attribution, workdir / "offline_gallery.sqlite") as pipeline:
            process_frames(frames, pipeline, store)
        return store.read_events()
    finally:
        store.close()


def plan_kills(rng: random.Random, kills: int, frames: int, groups: Sequence[Sequence[str]]) -> list[Kill]:
    """``kills`` victims, one of each group first (in random order), then any, each once a random
    frame in its own slice of the run's middle three quarters is acknowledged."""
    chosen = rng.sample([rng.choice(group) for group in groups], len(groups))[:kills]
    chosen += [rng.choice(VICTIMS) for _ in range(kills - len(chosen))]
    slice_ = max(1, frames * 3 // 4 // kills)
    points = [frames // 8 + n * slice_ + rng.randrange(slice_) for n in range(kills)]
    return [Kill(victim, point) for victim, point in zip(chosen, points, strict=True)]


class Deployment:
    """The whole deployment on this machine, every piece restartable on its own."""

    def __init__(self, workdir: Path, domain_id: int, frames: int, fps: float) -> None:
        self.workdir, self.domain_id, self.frames, self.fps = workdir, domain_id, frames, fps
        (workdir / "logs").mkdir(parents=True, exist_ok=True)
        self.broker = LocalBroker(log_path=workdir / "logs" / "broker.log")
        self.mariadb = MariaDb(workdir)
        self.frames_topic, self.events_topic = (
            f"frames-{uuid.uuid4().hex[:6]}",
            f"events-{uuid.uuid4().hex[:6]}",
        )
        self.processes: dict[str, subprocess.Popen] = {}
        self.starts: Counter[str] = Counter()
        profile = find_dds_profile(REPO)
        self.env = {
            **node_environment(os.environ, profile),
            "ROS_DOMAIN_ID": str(domain_id),
            "RCUTILS_LOGGING_BUFFERED_STREAM": "0",
            "OMP_NUM_THREADS": "1",
        }

    def nodes(self) -> dict[str, Node]:
        kafka = {"bootstrap_servers": self.broker.bootstrap}
        spool = str(self.workdir / "spool" / "{node}.sqlite")
        return {
            "camera": Node(
                "camera_node",
                "camera_node",
                CAMERA,
                {
                    "camera_id": CAMERA,
                    "source": str(CLIP),
                    "fps": self.fps,
                    "width": 640,
                    "height": 360,
                    "recorded_start": RECORDED_START,
                    "max_frames": self.frames,
                    "min_subscribers": 1,
                },
            ),
            "frames_out": Node(
                "kafka_bridge",
                "frames_out",
                CAMERA,
                {**kafka, "topic": self.frames_topic, "camera_id": CAMERA, "jpeg_quality": JPEG_QUALITY},
            ),
            "frames_in": Node(
                "kafka_bridge",
                "frames_in",
                "server",
                {
                    **kafka,
                    "topic": self.frames_topic,
                    "camera_ids": f"[{CAMERA}]",
                    "group_id": "frames_in",
                    "max_frame_age_s": 0.0,
                },
            ),
            "face_detect": Node(
                "face_detect_node",
                "face_detect_node",
                SERVER_NS,
                {"detector": DETECTOR, "detect_every": DETECT_EVERY, "frame_rate": self.fps},
            ),
            "identity": Node(
                "identity_node",
                "identity_node",
                SERVER_NS,
                {"gallery_path": str(self.workdir / "gallery.sqlite")},
            ),
            "agegender": Node("agegender_node", "agegender_node", SERVER_NS, {"backend": AGEGENDER}),
            "events_out": Node(
                "kafka_bridge",
                "events_out",
                SERVER_NS,
                {**kafka, "topic": self.events_topic, "spool_path": spool},
            ),
            "sink": Node(
                "face_sink", "face_sink", SERVER_NS, {"database": self.mariadb.url, "spool_path": spool}
            ),
        }

    def log_path(self, name: str) -> Path:
        return self.workdir / "logs" / f"{name}.log"

    def start(self, name: str) -> None:
        """Start one node (or events_to_db) as its launch file would; its output appended to its log."""
        self.starts[name] += 1
        if name == "events_to_db":
            command = [
                resolve_executable("face_analytics", "events_to_db"),
                *("--bootstrap-servers", self.broker.bootstrap, "--topic", self.events_topic),
                *("--group-id", "events_to_db", "--database", self.mariadb.url, "--stats-period-s", "2"),
            ]
        else:
            node = self.nodes()[name]
            command = [
                resolve_executable(node.package, node.executable),
                "--ros-args",
                "-r",
                f"__ns:=/{node.namespace}",
            ]
            command += [
                "-r",
                f"__node:={name}",
                "--params-file",
                str(REPO / "config" / f"{node.executable}.yaml"),
            ]
            for key, value in node.params.items():
                command += ["-p", f"{key}:={str(value).lower() if isinstance(value, bool) else value}"]
        with self.log_path(name).open("a") as log:
            log.write(f"=== start {self.starts[name]}\n")
            log.flush()
            self.processes[name] = subprocess.Popen(
                command,
                env={**self.env, PASSWORD_ENV: self.mariadb.password},
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_all(self) -> None:
        self.broker.start()
        self.mariadb.start()
        self.ensure_topics()
        for name in (*NODE_VICTIMS[1:], "events_to_db", "frames_out", "camera"):
            self.start(name)

    def ensure_topics(self) -> None:
        """The topics as the infrastructure has them (created again after a memory broker's restart)."""
        config = {"bootstrap.servers": self.broker.bootstrap}
        ensure_topics(
            config,
            [frames_topic(self.frames_topic, partitions=1), events_topic(self.events_topic, partitions=1)],
        )

    def kill(self, victim: str) -> None:
        """SIGKILL the victim and start it again on the same settings, port and data."""
        if victim == "broker":
            self.broker.kill()
            self.broker.start()
            self.ensure_topics()
        elif victim == "mariadb":
            self.mariadb.kill()
            self.mariadb.start()
        else:
            process = self.processes[victim]
            process.kill()
            process.wait()
            self.start(victim)

    def ready(self, name: str) -> bool:
        """Whether a restarted process is at work again (its log's line for that since the start)."""
        if name not in READY:
            return True
        log = self.log_path(name).read_text(errors="replace")
        return READY[name] in log[log.rindex(f"=== start {self.starts[name]}") :]

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def stop(self) -> None:
        """Ctrl-C every process (the camera's already done), then the servers."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.broker.stop()
        self.mariadb.stop()


def read_topic(bootstrap: str, topic: str, idle_s: float = 3.0) -> list:
    """Every record of ``topic``'s one partition, read until nothing came for ``idle_s``
    (assigned, not subscribed: tansu's group joins take half a session timeout)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex, "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    records, last = [], time.monotonic()
    try:
        while time.monotonic() - last < idle_s:
            batch = [r for r in consumer.consume(64, timeout=0.2) if r.error() is None]
            if batch:
                records += batch
                last = time.monotonic()
    finally:
        consumer.close()
    return records


def wait_until(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    return True


def event_key(event: FaceEvent) -> tuple[str, int, int]:
    return (event.camera_id, event.stamp_ns, event.face_index)


def score(
    report: ChaosReport,
    expected: list[FaceEvent],
    truth: list[FaceEvent],
    stored: list[FaceEvent],
    progress: Progress,
) -> None:
    """Fill the report's counts from what MySQL holds: losses against ``expected`` (offline on
    every frame published), identities against ``truth`` (offline on the frames analysed, the
    same inputs the identity node had: lost frames change what a gallery learns)."""
    expected_by_key = {event_key(e): e for e in expected}
    stored_keys = Counter(event_key(e) for e in stored)
    report.events_expected, report.events_stored = len(expected), len(stored_keys)
    report.duplicates_mysql = sum(n - 1 for n in stored_keys.values())
    lost = [k for k in expected_by_key if k not in stored_keys]
    report.events_lost = len(lost)
    report.events_extra = sum(1 for k in stored_keys if k not in expected_by_key)
    # A frame is lost when the sink never acknowledged it or some of its events are missing.
    lost_seqs = Counter(progress.seq(k[1]) for k in lost)
    lost_seqs.update({seq: 0 for seq in range(max(report.frames_published, 0)) if seq not in progress.acked})
    report.frames_lost = len(lost_seqs)
    for seq, events in sorted(lost_seqs.items()):
        windows = [k for k in report.kills if k.in_flight_from <= seq <= k.in_flight_to]
        kill = min(windows, key=lambda k: k.victim not in LOSSY, default=None)
        if kill is None:
            report.lost_outside_kills.append(seq)
        else:
            kill.lost_frames += 1
            kill.lost_events += events
    truth_by_key = {event_key(e): e for e in truth}
    people_of: dict[int, set[int]] = defaultdict(set)
    ids_of: dict[int, set[int]] = defaultdict(set)
    for event in stored:
        origin = truth_by_key.get(event_key(event))
        if origin is not None and event.face_id >= 0 and origin.face_id >= 0:  # -1: no ID given
            people_of[event.face_id].add(origin.face_id)
            ids_of[origin.face_id].add(event.face_id)
    report.face_ids_reused = sum(1 for people in people_of.values() if len(people) > 1)
    report.face_ids_split = sum(len(ids) - 1 for ids in ids_of.values())


def run_chaos(
    workdir: Path,
    domain_id: int,
    seed: int,
    kills: int,
    frames: int,
    fps: float,
    groups: Sequence[Sequence[str]],
    on_progress: Callable[[int], None] = lambda _acked: None,
    timeout_s: float = 600.0,
) -> ChaosReport:
    """The whole run: truth offline, the deployment, the kills at their points, the tally."""
    started = time.monotonic()
    rate = source_fps(CLIP)
    start_ns = parse_start(RECORDED_START, CLIP)
    source = recorded_frames(frames, start_ns, rate)
    expected = offline_events(source, workdir, fps)
    report = ChaosReport(seed, kills=plan_kills(random.Random(seed), kills, len(source), groups))
    deployment = Deployment(workdir, domain_id, len(source), fps)
    progress = Progress(domain_id, start_ns, rate)
    try:
        deployment.start_all()
        deadline = time.monotonic() + timeout_s
        for kill in report.kills:
            if not follow(
                deployment, progress, lambda k=kill: progress.newest() >= k.at_seq, deadline, on_progress
            ):
                break  # the camera is done and the frames left to reach the point were lost
            kill.in_flight_from = progress.oldest_in_flight()
            t0 = time.monotonic()
            deployment.kill(kill.victim)
            mark = progress.camera_seq
            if kill.victim in LOSSY:
                # Back once a frame the camera published after the restart went through (a
                # broker's producers may need a new id, a new frames_out must be matched by the
                # camera first); frames still queued then may yet be lost, so the window runs to
                # the camera's newest frame at that moment.
                back = lambda m=mark: progress.newest() > m or not deployment.alive("camera")  # noqa: E731
            else:
                back = lambda k=kill: deployment.ready(k.victim)  # noqa: E731
            if not wait_until(back, 120.0):
                raise TimeoutError(
                    f"{kill.victim} not back after its kill: see {deployment.log_path(kill.victim)}"
                )
            kill.restart_s = round(time.monotonic() - t0, 2)
            kill.in_flight_to = progress.camera_seq if deployment.alive("camera") else len(source) - 1
        follow(deployment, progress, lambda: progress.acked_count() >= len(source), deadline, on_progress)
        time.sleep(5.0)  # events_to_db's last batch
        report.frames_acknowledged = progress.acked_count()
        report.frames_published = camera_published(deployment)
        store = open_store(deployment.mariadb.dsn)
        try:
            stored = store.read_events()
            report.collisions = sum("collision" in letter.reason for letter in store.read_dead_letters())
        finally:
            store.close()
        records = read_topic(deployment.broker.bootstrap, deployment.events_topic)
        events = [decode_event(r.value()) for r in records if r.value() is not None]
        report.topic_records = len(events)
        report.duplicates_topic = len(events) - len({event_key(e) for e in events})
    finally:
        progress.close()
        deployment.stop()
    report.identity_starts = deployment.starts["identity"]
    report.gallery_loads = [
        int(m) for m in re.findall(r"last_face_id=(\d+) backend", deployment.log_path("identity").read_text())
    ]
    crossed = [f for f in source if progress.seq(f.frame.stamp_ns) in progress.acked]
    truth = expected if len(crossed) == len(source) else offline_events(crossed, workdir / "analysed", fps)
    score(report, expected, truth, stored, progress)
    report.wall_s = round(time.monotonic() - started, 1)
    return report


def camera_published(deployment: Deployment) -> int:
    """Frames the camera published, from its final counters (-1: it did not finish)."""
    found = re.findall(r"counters: published=(\d+)", deployment.log_path("camera").read_text())
    return int(found[-1]) if found else -1


def follow(
    deployment: Deployment,
    progress: Progress,
    reached: Callable[[], bool],
    deadline: float,
    on_progress: Callable[[int], None],
) -> bool:
    """Wait until ``reached()``; False once the camera is done and no frame was acknowledged for
    ``QUIET_S`` (the rest was lost), TimeoutError at ``deadline``."""
    last, quiet_since = -1, time.monotonic()
    while not reached():
        acked = progress.acked_count()
        on_progress(acked)
        if acked != last or deployment.alive("camera"):
            last, quiet_since = acked, time.monotonic()
        elif time.monotonic() - quiet_since > QUIET_S:
            return False
        if dead := [name for name in deployment.processes if name != "camera" and not deployment.alive(name)]:
            raise RuntimeError(
                f"{dead} exited by themselves: see {[str(deployment.log_path(n)) for n in dead]}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"stuck at {acked} acknowledged frames; logs in {deployment.workdir}")
        time.sleep(0.1)
    on_progress(progress.acked_count())
    return True


def format_report(report: ChaosReport) -> str:
    rows = [
        ("frames published (camera)", report.frames_published),
        ("frames acknowledged by the sink", report.frames_acknowledged),
        ("events expected (offline)", report.events_expected),
        ("events stored (MariaDB)", report.events_stored),
        ("events lost", report.events_lost),
        ("frames lost (unacknowledged or events missing)", report.frames_lost),
        ("frames lost outside any kill's window", " ".join(map(str, report.lost_outside_kills)) or 0),
        ("events stored, not expected", report.events_extra),
        ("duplicates in MariaDB (natural key)", report.duplicates_mysql),
        ("duplicates on the events topic (info)", report.duplicates_topic),
        ("events topic records (info)", report.topic_records),
        ("key collisions dead-lettered (info)", report.collisions),
        ("face IDs reused", report.face_ids_reused),
        ("face IDs split (info)", report.face_ids_split),
        ("identity starts / gallery loads", f"{report.identity_starts} / {len(report.gallery_loads)}"),
        ("last_face_id at each gallery load", " ".join(map(str, report.gallery_loads))),
        ("wall time (s)", report.wall_s),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    lines += ["", "kill  victim        at frame  in flight (seqs)  restart s  frames lost  events lost"]
    for n, kill in enumerate(report.kills, 1):
        lines.append(
            f"{n:>4}  {kill.victim:<12}  {kill.at_seq:>8}"
            f"  {kill.in_flight_from:>6}..{kill.in_flight_to:<8}"
            f"  {kill.restart_s:>9}  {kill.lost_frames:>11}  {kill.lost_events:>11}"
        )
    return "\n".join(lines)


@contextlib.contextmanager
def work_folder(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="chaos-") as folder:
        yield Path(folder)


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_common import add_output_arguments, describe_machine, emit, machine_info
    from tqdm import tqdm

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=len(VICTIMS))
    parser.add_argument("--frames", type=int, default=160)
    parser.add_argument("--fps", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--domain-id", type=int, default=77)
    parser.add_argument("--workdir", type=Path)
    add_output_arguments(parser)
    args = parser.parse_args(argv)
    with (
        work_folder(args.workdir) as workdir,
        tqdm(total=args.frames, desc="frames acknowledged", file=sys.stderr) as bar,
    ):

        def advance(acked: int) -> None:
            bar.update(acked - bar.n)

        report = run_chaos(
            workdir,
            args.domain_id,
            args.seed,
            args.kills,
            args.frames,
            args.fps,
            [(v,) for v in VICTIMS],
            advance,
        )
    machine = machine_info()
    emit(
        args,
        {"machine": machine, **asdict(report)},
        lambda: f"{describe_machine(machine)}\n{format_report(report)}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
