"""What every node of the graph does the same way: read-only parameter descriptors and ``main``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import rclpy
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

from face_common.settings import setting_fields

Settings = TypeVar("Settings")


def read_only(description: str, **ranges: list) -> ParameterDescriptor:
    """A parameter fixed at start: the nodes build their pipeline from it once."""
    return ParameterDescriptor(description=description, read_only=True, **ranges)


def declare_settings(node: Node, settings_class: type[Settings]) -> Settings:
    """Declare every field of a settings dataclass as a read-only parameter (its default,
    description and range) and return the settings the node was started with."""
    values = {}
    for f in setting_fields(settings_class):
        low, high = f.metadata["range"]
        description = f.metadata["description"]
        if f.metadata["choices"]:
            description += f"; one of {', '.join(f.metadata['choices'])}"
        ranges: dict[str, list] = {}
        if low is not None and isinstance(f.default, int) and not isinstance(f.default, bool):
            ranges["integer_range"] = [IntegerRange(from_value=int(low), to_value=int(high), step=1)]
        elif low is not None:
            ranges["floating_point_range"] = [FloatingPointRange(from_value=low, to_value=high, step=0.0)]
        values[f.name] = node.declare_parameter(f.name, f.default, read_only(description, **ranges)).value
    return settings_class(**values)


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
