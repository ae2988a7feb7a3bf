"""What every bridge node shares: Kafka connection parameters, topic creation, counters.

Counters are published as JSON (``std_msgs/String``) on ``~/stats`` and logged on one line
every ``stats_period_s`` and at exit, so an operator or a test reads how many frames or events
were delivered, dropped or skipped without parsing anything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import rclpy
from confluent_kafka import KafkaException
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from std_msgs.msg import String

from kafka_bridge.connection import ConnectionConfigError, client_config, describe
from kafka_bridge.topics import TopicSpec, ensure_topics


class BridgeNode(Node):
    def __init__(self, name: str, default_topic: str) -> None:
        super().__init__(name)
        bootstrap = self.param(
            "bootstrap_servers", "", "Kafka brokers host:port[,host:port]; empty: $KAFKA_BOOTSTRAP_SERVERS"
        )
        config_file = self.param(
            "kafka_config_file",
            "",
            "librdkafka properties file (SASL/SSL settings); empty: $KAFKA_CONFIG_FILE",
        )
        self.kafka_settings = client_config(str(bootstrap), str(config_file))
        self.topic = str(self.param("topic", default_topic, "Kafka topic"))
        self.create_topics = bool(self.param("create_topics", True, "create the Kafka topic when missing"))
        self.partitions = int(self.param("partitions", 6, "partitions of a topic this node creates"))
        self.replication_factor = int(
            self.param(
                "replication_factor", -1, "replication of a topic this node creates (-1: broker default)"
            )
        )
        period = float(self.param("stats_period_s", 5.0, "seconds between counter reports (0: only at exit)"))
        self._stats_publisher = self.create_publisher(String, "~/stats", 10)
        if period > 0:
            self.create_timer(period, self.report_stats)
        self.get_logger().info(f"Kafka: {describe(self.kafka_settings)}, topic {self.topic}")

    def param(self, name: str, default: object, description: str) -> object:
        return self.declare_parameter(name, default, ParameterDescriptor(description=description)).value

    def counters(self) -> dict[str, int]:
        """What :meth:`report_stats` reports; each node says what it counts."""
        raise NotImplementedError

    def report_stats(self) -> None:
        counters = self.counters()
        line = "stats: " + " ".join(f"{name}={value}" for name, value in counters.items())
        if self.context.ok():
            self._stats_publisher.publish(String(data=json.dumps(counters)))
            self.get_logger().info(line)
        else:  # closing after Ctrl-C: no more publishing, /rosout included
            rclpy.logging.get_logger(self.get_logger().name).info(line)

    def run(self) -> None:
        """Serve callbacks until shutdown."""
        rclpy.spin(self)

    def close(self) -> None:
        """Finish before exit: send what is queued, leave the group, report the counters."""
        self.report_stats()

    def ensure_topics(self, specs: Sequence[TopicSpec]) -> None:
        """Create missing topics; an unreachable broker is only a warning (it may come later)."""
        if not self.create_topics:
            return
        try:
            created = ensure_topics(self.kafka_settings, specs, timeout_s=5.0)
        except KafkaException as err:
            self.get_logger().warning(f"could not check/create topics {[s.name for s in specs]}: {err}")
            return
        if created:
            self.get_logger().info(f"created Kafka topics {created}")


def run_bridge_node(make_node: Callable[[], BridgeNode], name: str, args: list[str] | None = None) -> int:
    """The nodes' ``main``: exit 1 with one clear line on bad settings, 0 after Ctrl-C."""
    rclpy.init(args=args)
    node = None
    try:
        node = make_node()
        node.run()
    except (ConnectionConfigError, ValueError) as err:
        rclpy.logging.get_logger(name).error(str(err))
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
