"""Real node processes in a DDS domain of a test's own, and a node in the test process to talk to them.

Each test gets its own ROS_DOMAIN_ID, so tests running at the same time on one machine never see
each other's topics. (A module of its own, not conftest: test files import from it by name.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rclpy
from graph_launcher.command_line import resolve_executable
from graph_launcher.dds_env import (
    BOOTSTRAP_GUARD,
    DDS_CHOICE_VARIABLES,
    PROFILE_VARIABLE,
    RMW_IMPLEMENTATION,
    find_dds_profile,
)
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
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


class RosProcesses:
    """Node processes in one DDS domain, and a node in this process spun by a thread of its own."""

    def __init__(self, domain_id: int) -> None:
        dds_variables = {"RMW_IMPLEMENTATION", *DDS_CHOICE_VARIABLES}
        self.env = {k: v for k, v in os.environ.items() if k != BOOTSTRAP_GUARD and k not in dds_variables}
        self.env.update(DDS_SETTINGS, ROS_DOMAIN_ID=str(domain_id), RCUTILS_LOGGING_BUFFERED_STREAM="0")
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
        self, msg_type: type, topic: str, convert: Callable[[Any], Any] = lambda m: m, depth: int = 200
    ) -> list:
        """Everything published on ``topic`` from now on, converted on arrival (best effort, as
        images are published)."""
        received: list = []

        def store(msg: object) -> None:
            item = convert(msg)
            with self.lock:
                received.append(item)

        qos = QoSProfile(depth=depth, reliability=ReliabilityPolicy.BEST_EFFORT)
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


def exit_counters(log: str) -> dict[str, int]:
    """The counters of a node's final ``counters: name=value ...`` line (``GraphNode.close``)."""
    lines = [line for line in log.splitlines() if "counters: " in line]
    assert lines, f"no counters line in log:\n{log}"
    pairs = (item.split("=", 1) for item in lines[-1].split("counters: ", 1)[1].split())
    return {name: int(value) for name, value in pairs}


def wait_until(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.05) -> bool:
    """Whether ``condition`` came true within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    return True


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
