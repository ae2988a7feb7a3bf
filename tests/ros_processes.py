"""Real node processes in a DDS domain of a test's own, and a node in the test process to talk to them.

Each test claims its own ROS_DOMAIN_ID (``claim_domain_id``), so tests running at the same time on
one machine, in this session or another, never see each other's topics. The ``ros_graph`` and
``ros_domain_id`` fixtures (tests/conftest.py) are the way in. (A module of its own, not conftest:
test files import from it by name.)
"""

from __future__ import annotations

import fcntl
import itertools
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from face_common.health import Level
from graph_launcher.command_line import resolve_executable
from graph_launcher.dds_env import (
    BOOTSTRAP_GUARD,
    DDS_CHOICE_VARIABLES,
    PROFILE_VARIABLE,
    RMW_IMPLEMENTATION,
    find_dds_profile,
)
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy

DDS_SETTINGS = {
    "RMW_IMPLEMENTATION": RMW_IMPLEMENTATION,
    PROFILE_VARIABLE: str(find_dds_profile(Path(__file__).parent)),
}
"""The Fast DDS set-up ``graph_launch`` gives every node (shared memory with a segment that holds
720p frames, UDPv4 for discovery), for the node processes and this process's participant alike.

Not ``FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA``: its TCP transport in Fast DDS 3.2 (the newest on
PyPI) deadlocks when a participant is deleted while a channel's listening thread waits in a
blocking read from a live, silent peer: ``TCPChannelResourceBasic::disconnect`` waits for the
read mutex that the read holds, so a node whose peer (this process) outlived it hung in
``destroy_node`` after its last log line (fixed upstream in Fast DDS 3.4, eProsima/Fast-DDS#6066).
"""

IMAGES_QOS = QoSProfile(depth=200, reliability=ReliabilityPolicy.BEST_EFFORT)
"""What ``collect`` subscribes with unless told: it matches any publisher, images' included."""

DOMAIN_IDS = (*range(1, 102), *range(215, 233))
"""The ids ROS 2 advises on Linux: their DDS ports stay out of the ephemeral port range. 0, the
default, is left to whatever else runs on the machine."""
_claims = itertools.count(os.getpid())


@contextmanager
def claim_domain_id() -> Iterator[int]:
    """A domain id no other test on this machine holds until the block ends.

    A claim is an exclusive ``flock`` on a file per id, so concurrent test sessions (several
    developers, one machine) cannot pick the same one, and a killed session's claims lapse with
    it. Successive claims start at successive ids: a test never inherits the domain of the one
    before, where a node of it might still be leaving.
    """
    folder = Path(tempfile.gettempdir()) / "ros-test-domains"
    folder.mkdir(exist_ok=True)
    start = next(_claims)
    for k in range(len(DOMAIN_IDS)):
        domain_id = DOMAIN_IDS[(start + k) % len(DOMAIN_IDS)]
        with (folder / f"{domain_id}.lock").open("w") as claim:
            try:
                fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            yield domain_id
            return
    raise RuntimeError(f"every ROS domain id is held by a test (claims in {folder})")


class RosProcesses:
    """Node processes in one DDS domain, and a node in this process spun by a thread of its own."""

    def __init__(self, domain_id: int) -> None:
        dds_variables = {"RMW_IMPLEMENTATION", *DDS_CHOICE_VARIABLES}
        self.env = {k: v for k, v in os.environ.items() if k != BOOTSTRAP_GUARD and k not in dds_variables}
        self.env.update(
            DDS_SETTINGS,
            ROS_DOMAIN_ID=str(domain_id),
            RCUTILS_LOGGING_BUFFERED_STREAM="0",
            OMP_NUM_THREADS="1",  # a thread per node: tests share a few cores with the nodes
        )
        # The participant reads its settings from the environment when it is made.
        saved = {name: os.environ.pop(name, None) for name in dds_variables}
        os.environ.update(DDS_SETTINGS)
        try:
            self.context = rclpy.Context()
            rclpy.init(context=self.context, domain_id=domain_id)
            self.node = rclpy.create_node("test_process_peer", context=self.context)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.lock = threading.Lock()
        self.processes: list[subprocess.Popen] = []
        self._spinner = threading.Thread(target=self._spin, daemon=True)
        self._spinner.start()

    def _spin(self) -> None:
        while self.context.ok():
            self.executor.spin_once(timeout_sec=0.05)

    def start(self, package: str, executable: str, namespace: str = "", **params: object) -> subprocess.Popen:
        """Run a node of ``package`` in this domain; ``params`` become ``-p name:=value``."""
        args = [resolve_executable(package, executable), "--ros-args"]
        if namespace:
            args += ["-r", f"__ns:=/{namespace}"]
        for name, value in params.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            args += ["-p", f"{name}:={text}"]
        process = subprocess.Popen(
            args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.processes.append(process)
        return process

    def collect(
        self,
        msg_type: type,
        topic: str,
        convert: Callable[[Any], Any] = lambda m: m,
        qos: QoSProfile = IMAGES_QOS,
    ) -> list:
        """Everything published on ``topic`` from now on, converted on arrival (best effort, as
        images are published, unless ``qos`` says otherwise: ``FACES_QOS`` for every answer)."""
        received: list = []

        def store(msg: object) -> None:
            item = convert(msg)
            with self.lock:
                received.append(item)

        self.node.create_subscription(msg_type, topic, store, qos)
        return received

    def diagnostics(self, node_name: str) -> list[DiagnosticStatus]:
        """The ``/diagnostics`` statuses of the node ``node_name`` (fully qualified) from now on."""
        statuses: list[DiagnosticStatus] = []

        def store(msg: DiagnosticArray) -> None:
            with self.lock:
                statuses.extend(status for status in msg.status if status.name == node_name)

        self.node.create_subscription(DiagnosticArray, "/diagnostics", store, 100)
        return statuses

    def close(self) -> None:
        for process in self.processes:  # left running only when a test failed early
            if process.poll() is None:
                process.kill()
                process.communicate()
        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._spinner.join(timeout=2.0)


def levels(statuses: list[DiagnosticStatus]) -> list[Level]:
    """The levels reported so far, in order (``statuses`` from :meth:`RosProcesses.diagnostics`)."""
    return [Level(status.level[0]) for status in list(statuses)]


def reported(
    statuses: list[DiagnosticStatus], wanted: Level, about: str = "", timeout_s: float = 10.0
) -> DiagnosticStatus:
    """The first status of level ``wanted`` whose message holds ``about``, waited for (a node
    reports once a second)."""

    def first() -> DiagnosticStatus | None:
        return next((s for s in list(statuses) if Level(s.level[0]) == wanted and about in s.message), None)

    assert wait_until(lambda: first() is not None, timeout_s), (
        f"no {wanted.name} {about!r} on /diagnostics in {timeout_s} s: {[s.message for s in statuses]}"
    )
    return first()


def status_values(status: DiagnosticStatus) -> dict[str, str]:
    return {item.key: item.value for item in status.values}


def exit_counters(log: str, marker: str = "counters: ") -> dict[str, int]:
    """The counters of the last ``<marker>name=value ...`` line of ``log``: a node's final
    ``counters:`` line (``GraphNode.close``), or, with ``marker="stats: "``, events_to_db's."""
    lines = [line for line in log.splitlines() if marker in line]
    assert lines, f"no {marker!r} line in log:\n{log}"
    pairs = (item.split("=", 1) for item in lines[-1].split(marker, 1)[1].split())
    return {name: int(value) for name, value in pairs}


def launched_node_log(log: str, label: str) -> str:
    """The lines of one node in a ``graph_launch`` log (each is prefixed with ``[label]``)."""
    return "\n".join(line for line in log.splitlines() if line.startswith(f"[{label}] "))


def wait_until(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.05) -> bool:
    """Whether ``condition`` came true within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    return True


def publish_until(
    done: Callable[[], bool],
    publish: Callable[[], None],
    process: subprocess.Popen,
    timeout_s: float = 60.0,
    period_s: float = 1.0,
) -> None:
    """Call ``publish`` every ``period_s`` until ``done()``: what is sent before discovery has
    matched both sides, or best effort, may be lost. Fails if the node ``process`` exits first."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited ({process.returncode}); log:\n{process.communicate()[0]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no answer from {process.args[0]} in {timeout_s} s:\n{process.communicate()[0]}")
        publish()
        wait_until(done, timeout_s=period_s)


def finish(process: subprocess.Popen, timeout_s: float = 60.0) -> tuple[int, str]:
    """Wait for a node process to exit by itself; return its exit code and its log."""
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"{process.args[0]} did not exit within {timeout_s} s; log:\n{output}")
    return process.returncode, output


def stop(process: subprocess.Popen, timeout_s: float = 20.0) -> str:
    """Ctrl-C a node process and return its log (it must exit by itself)."""
    process.send_signal(signal.SIGINT)
    return finish(process, timeout_s)[1]
