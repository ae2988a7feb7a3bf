"""The one way a node of the graph is built and run.

``GraphNode`` declares the node's settings dataclass as read-only ROS parameters (the dataclass is
the single source of defaults, descriptions and ranges), keeps its counters (``health.NodeHealth``)
and publishes them with an OK/WARN/ERROR level on ``/diagnostics`` once a second, and applies one
policy to unreadable messages (count, warn, drop, go on). ``run_node`` is every node's ``main``.

Ctrl-C and SIGTERM only set a flag that the node's loop checks between callbacks (rclpy's own
handlers would shut the context down mid-callback, so the next publish raises): a node always
finishes the message it holds, flushes (``close``), reports its final counters and exits 0.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import ParameterException
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from face_common.health import HealthReport, NodeHealth, ProblemLog
from face_common.settings import checked, setting_fields, typed_value

Settings = TypeVar("Settings")
Message = TypeVar("Message")
Decoded = TypeVar("Decoded")

DIAGNOSTICS_PERIOD_S = 1.0
"""As ``diagnostic_updater``'s default: often enough for a monitor, cheap for the node."""
SPIN_TIMEOUT_S = 0.1
"""Longest wait between checks of the stop flag: a signal is honoured within this."""
PROBLEM_LOG_PERIOD_S = 5.0
"""A recurring problem is logged at most this often per counter, so a flood cannot drown the log."""
"""Longest wait between checks of the stop flag: a signal is honoured within this."""


def read_only(description: str, **ranges: list) -> ParameterDescriptor:
    """A parameter fixed at start: the nodes build their pipeline from it once."""
    return ParameterDescriptor(description=description, read_only=True, **ranges)


def declare_settings(node: Node, settings_class: type[Settings]) -> Settings:
    """Declare every field of a settings dataclass as a read-only parameter (its default,
    description and range) and return the settings the node was started with, checked."""
    values = {}
    for f in setting_fields(settings_class):
        low, high = f.metadata["range"]
        description = f.metadata["description"]
        if f.metadata["choices"]:
            description += f"; one of {', '.join(f.metadata['choices'])}"
        ranges: dict[str, Any] = {}
        if low is not None and isinstance(f.default, int) and not isinstance(f.default, bool):
            ranges["integer_range"] = [IntegerRange(from_value=int(low), to_value=int(high), step=1)]
        elif low is not None:
            ranges["floating_point_range"] = [FloatingPointRange(from_value=low, to_value=high, step=0.0)]
        descriptor = read_only(description, **ranges)
        descriptor.dynamic_typing = f.metadata["any_type"]
        default = list(f.default) if isinstance(f.default, tuple) else f.default
        values[f.name] = typed_value(f, node.declare_parameter(f.name, default, descriptor).value)
    return checked(settings_class(**values))


def stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C or SIGTERM, in place of rclpy's handlers (see the module's doc)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def diagnostic_status(name: str, report: HealthReport) -> DiagnosticStatus:
    return DiagnosticStatus(
        level=bytes([report.level]),
        name=name,
        message=report.message,
        hardware_id=socket.gethostname(),
        values=[KeyValue(key=key, value=str(value)) for key, value in report.values.items()],
    )


class GraphNode(Node):
    """Base of every node: settings, counters on ``/diagnostics``, unreadable messages, stop and close.

    A subclass names its ``settings_class``, its ``counters`` and ``problems`` (counters whose rise
    is a warning), builds its pipeline from ``self.settings`` and counts with ``self.health``.
    """

    settings_class: ClassVar[type]
    counters: ClassVar[tuple[str, ...]] = ()
    problems: ClassVar[tuple[str, ...]] = ("bad_messages",)
    startup_errors: ClassVar[tuple[type[Exception], ...]] = (ValueError, OSError, ParameterException)
    """What a wrong setting or an unusable resource raises at start: one error line, exit 1."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.settings = declare_settings(self, self.settings_class)
        self.health = NodeHealth(self.counters, self.problems)
        self._problem_log = ProblemLog(PROBLEM_LOG_PERIOD_S)
        self.finished = False
        """Set by a node whose work is done (a finite source written): ``run`` returns."""
        self.failure: str | None = None
        """Why the node gave up (see :meth:`fail`): it exits with status 1."""
        self._diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.create_timer(DIAGNOSTICS_PERIOD_S, self.publish_diagnostics)

    def decoded(self, decode: Callable[[Message], Decoded], msg: Message) -> Decoded | None:
        """``decode(msg)``, or None for an unreadable message: counted, warned about, dropped."""
        try:
            return decode(msg)
        except ValueError as err:
            self.report_problem("bad_messages", f"dropping unreadable {type(msg).__name__}: {err}")
            return None

    def report_problem(self, counter: str, what: str, n: int = 1, error: bool = False) -> None:
        """Count ``n`` on problem ``counter`` and log ``what`` with the total, at most once per
        :data:`PROBLEM_LOG_PERIOD_S` per counter and kind of problem (``ProblemLog``; the counter
        and ``/diagnostics`` keep the rest)."""
        total = self.health.count(counter, n)
        if not self._problem_log.due(counter, what, time.monotonic()):
            return
        log = self.get_logger().error if error else self.get_logger().warning
        log(f"{what} ({counter}={total})")

    def fail(self, reason: str) -> None:
        """Give up: ``run`` returns, the node closes, logs ``reason`` and exits with status 1."""
        self.failure = reason
        self.health.fault = reason
        self.finished = True

    def publish_diagnostics(self) -> None:
        array = DiagnosticArray(
            status=[diagnostic_status(self.get_fully_qualified_name(), self.health.report())]
        )
        array.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics.publish(array)

    def run(self, executor: SingleThreadedExecutor, stop: threading.Event) -> None:
        """Serve callbacks until stopped or ``finished``; nodes with a loop of their own override it."""
        while not stop.is_set() and not self.finished:
            executor.spin_once(timeout_sec=SPIN_TIMEOUT_S)

    def close(self) -> None:
        """Before exit: a subclass flushes what it holds first, then calls this for the last report."""
        self.publish_diagnostics()
        self.get_logger().info(f"counters: {self.health.summary()}")


def run_node(node_class: type[GraphNode], args: list[str] | None = None) -> int:
    """A node's ``main``: build, run until stopped or done, close; 1 with one clear line if the
    node cannot start (a wrong setting, a missing file), else 0."""
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = stop_on_signals()
    node = None
    try:
        try:
            node = node_class()
        except node_class.startup_errors as err:
            rclpy.logging.get_logger(node_class.__name__).error(f"cannot start: {err}")
            return 1
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        node.run(executor, stop)
    finally:
        if node is not None:
            node.close()
            if node.failure is not None:
                node.get_logger().error(node.failure)
            node.destroy_node()
        rclpy.try_shutdown()
    return 1 if node.failure is not None else 0
