"""What every bridge node shares: the Kafka connection from its settings, topic creation, and its
client's counters copied into the node's ``/diagnostics`` report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from confluent_kafka import KafkaException
from face_common.graph_node import GraphNode

from kafka_bridge.connection import KafkaSettings, client_config, describe
from kafka_bridge.topics import TopicSpec, ensure_topics


class BridgeNode(GraphNode):
    settings: KafkaSettings

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.kafka_settings = client_config(self.settings.bootstrap_servers, self.settings.kafka_config_file)
        self.get_logger().info(f"Kafka: {describe(self.kafka_settings)}, topic {self.settings.topic}")

    def client_counters(self) -> Mapping[str, int]:
        """The counters the Kafka side keeps (outbox, intake); each node says which."""
        raise NotImplementedError

    def publish_diagnostics(self) -> None:
        self.health.values.update(self.client_counters())
        super().publish_diagnostics()

    def ensure_topics(self, specs: Sequence[TopicSpec]) -> None:
        """Create missing topics; an unreachable broker is only a warning (it may come later)."""
        if not self.settings.create_topics:
            return
        try:
            created = ensure_topics(self.kafka_settings, specs, timeout_s=5.0)
        except KafkaException as err:
            self.get_logger().warning(f"could not check/create topics {[s.name for s in specs]}: {err}")
            return
        if created:
            self.get_logger().info(f"created Kafka topics {created}")
