"""What every node of the graph does the same way: read-only parameter descriptors and ``main``."""

from __future__ import annotations

from collections.abc import Callable

import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node


def read_only(description: str, **ranges: list) -> ParameterDescriptor:
    """A parameter fixed at start: the nodes build their pipeline from it once."""
    return ParameterDescriptor(description=description, read_only=True, **ranges)


def spin_node(
    make_node: Callable[[], Node], args: list[str] | None = None, done: tuple[type[BaseException], ...] = ()
) -> None:
    """A node's ``main``: spin until Ctrl-C, SIGTERM or one of ``done``, then shut down cleanly."""
    rclpy.init(args=args)
    node = None
    try:
        node = make_node()  # a Ctrl-C while models load is a clean stop too
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException, *done):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
