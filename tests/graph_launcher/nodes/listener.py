"""Test-only node: records what it hears on ``heard`` and its parameters into a JSON file.

The integration tests remap ``heard`` onto the talker's topic and pass typed parameters, then
read the file to check that remaps, names and parameter types reached the process.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from std_msgs.msg import String

RECORDED_PARAMETERS = ("count", "ratio", "flag", "label", "empty")


class Listener(Node):
    def __init__(self) -> None:
        super().__init__("listener")
        self.out_path = Path(self.declare_parameter("out_path", "").value)
        self.expect = self.declare_parameter(
            "expect", 0, ParameterDescriptor(description="Exit 0 after this many messages (0 = never)")
        ).value
        any_type = ParameterDescriptor(dynamic_typing=True, description="Recorded with its type")
        self.recorded = {
            name: self.declare_parameter(name, None, any_type).value for name in RECORDED_PARAMETERS
        }
        self.messages: list[str] = []
        self.subscription = self.create_subscription(String, "heard", self.on_message, 10)

    def on_message(self, message: String) -> None:
        self.messages.append(message.data)
        self.write_record()
        if self.expect and len(self.messages) >= self.expect:
            raise SystemExit(0)

    def write_record(self) -> None:
        record = {
            "node": self.get_fully_qualified_name(),
            "topic": self.subscription.topic_name,
            "params": {name: [value, type(value).__name__] for name, value in self.recorded.items()},
            "messages": self.messages,
        }
        partial = self.out_path.with_suffix(".partial")
        partial.write_text(json.dumps(record))
        os.replace(partial, self.out_path)


def main() -> int:
    rclpy.init()
    node = Listener()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
