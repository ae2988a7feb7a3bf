"""Helpers shared by the bridge tests: real node processes in a DDS domain of their own, their
logs and counters. (A module of its own, not conftest: test files import from it by name.)
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import rclpy
from graph_launcher.command_line import resolve_executable
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

REPO = Path(__file__).resolve().parents[2]
PACKAGE_OF = {"camera_node": "camera_node"}
"""Package of each node these tests start that is not the bridge's own."""


def first_line(process: subprocess.Popen, timeout_s: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            return ""
    return process.stdout.readline().strip()


class RosProcesses:
    """Node processes in one DDS domain, and a node in this process to talk to them."""

    def __init__(self, domain_id: int) -> None:
        self.env = {k: v for k, v in os.environ.items() if k != "_ROS_WHEELS_BOOTSTRAP_COMPLETE"}
        self.env.update(
            ROS_DOMAIN_ID=str(domain_id),
            RMW_IMPLEMENTATION="rmw_fastrtps_cpp",
            FASTDDS_BUILTIN_TRANSPORTS="LARGE_DATA",  # 720p frames between processes
            RCUTILS_LOGGING_BUFFERED_STREAM="0",
        )
        # This process's DDS participant must use the same transports as the nodes' or it may
        # never discover them; the setting is read when the participant is made.
        saved = os.environ.get("FASTDDS_BUILTIN_TRANSPORTS")
        os.environ["FASTDDS_BUILTIN_TRANSPORTS"] = self.env["FASTDDS_BUILTIN_TRANSPORTS"]
        try:
            self.context = rclpy.Context()
            rclpy.init(context=self.context, domain_id=domain_id)
            self.node = rclpy.create_node("kafka_bridge_test", context=self.context)
        finally:
            if saved is None:
                del os.environ["FASTDDS_BUILTIN_TRANSPORTS"]
            else:
                os.environ["FASTDDS_BUILTIN_TRANSPORTS"] = saved
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.lock = threading.Lock()
        self.processes: list[subprocess.Popen] = []
        self._spinner = threading.Thread(target=self._spin, daemon=True)
        self._spinner.start()

    def _spin(self) -> None:
        while self.context.ok():
            self.executor.spin_once(timeout_sec=0.05)

    def start(self, executable: str, namespace: str = "", **params: object) -> subprocess.Popen:
        args = [resolve_executable(PACKAGE_OF.get(executable, "kafka_bridge"), executable), "--ros-args"]
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

    def collect(self, msg_type: type, topic: str, convert: Callable = lambda m: m) -> list:
        """Everything published on ``topic`` from now on, converted on arrival."""
        received: list = []

        def store(msg: object) -> None:
            item = convert(msg)
            with self.lock:
                received.append(item)

        qos = QoSProfile(depth=200, reliability=ReliabilityPolicy.BEST_EFFORT)
        self.node.create_subscription(msg_type, topic, store, qos)
        return received

    def collect_stats(self, node_path: str) -> list[dict[str, int]]:
        return self.collect(String, f"{node_path}/stats", lambda m: json.loads(m.data))

    def wait_until(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._spinner.join(timeout=2.0)


def stop(process: subprocess.Popen, timeout_s: float = 20.0) -> str:
    """Ctrl-C a node process and return its log (it must exit by itself)."""
    process.send_signal(2)
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"{process.args[0]} did not exit on SIGINT; log:\n{output}")
    return output


def last_stats(log: str) -> dict[str, int]:
    """The counters of a node's last ``stats: name=value ...`` log line."""
    lines = [line for line in log.splitlines() if "stats: " in line]
    assert lines, f"no stats line in log:\n{log}"
    return {k: int(v) for k, v in (item.split("=") for item in lines[-1].split("stats: ")[1].split())}
