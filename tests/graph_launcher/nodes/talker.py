"""Test-only node: publishes ``<greeting> <n>`` on ``chatter``; can be told to crash.

Started by the launcher integration tests through a PATH wrapper, so the tests exercise the
launcher with real rclpy processes without depending on the product's nodes.
"""

from __future__ import annotations

import sys

import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from std_msgs.msg import String

FAILURE_EXIT_CODE = 3


class Talker(Node):
    def __init__(self) -> None:
        super().__init__("talker")
        self.greeting = self.declare_parameter(
            "greeting", "hello", ParameterDescriptor(description="Text before the message counter")
        ).value
        period = self.declare_parameter(
            "period", 0.05, ParameterDescriptor(description="Seconds between messages")
        ).value
        self.fail_after = self.declare_parameter(
            "fail_after",
            0,
            ParameterDescriptor(description="Exit with an error after N messages (0 = never)"),
        ).value
        self.sent = 0
        self.publisher = self.create_publisher(String, "chatter", 10)
        self.create_timer(period, self.publish_next)

    def publish_next(self) -> None:
        if self.fail_after and self.sent >= self.fail_after:
            self.get_logger().error("failing on purpose")
            raise SystemExit(FAILURE_EXIT_CODE)
        self.publisher.publish(String(data=f"{self.greeting} {self.sent}"))
        self.sent += 1


def main() -> int:
    rclpy.init()
    node = Talker()
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
