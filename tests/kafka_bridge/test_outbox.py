"""Outbox logic against a fake producer that behaves like librdkafka's: reports only from poll()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from kafka_bridge.outbox import Outbox, OutboxStats

TIMED_OUT = KafkaError(KafkaError._MSG_TIMED_OUT)


class FakeProducer:
    def __init__(self, on_error: Callable[[KafkaError], None], buffer_limit: int = 1000) -> None:
        self.on_error = on_error
        self.buffer_limit = buffer_limit
        self.in_flight: list[tuple[bytes, Callable]] = []
        self.reports: list[tuple[Callable, KafkaError | None, bytes]] = []
        self.errors: list[KafkaError] = []
        self.refuse: KafkaError | None = None
        self.purged = False

    def produce(self, topic: str, value: bytes, key: bytes, headers: list, on_delivery: Callable) -> None:
        if self.refuse is not None:
            raise KafkaException(self.refuse)
        if len(self.in_flight) >= self.buffer_limit:
            raise BufferError("Local: Queue full")
        self.in_flight.append((value, on_delivery))

    def poll(self, _timeout: float) -> int:
        for err in self.errors:
            self.on_error(err)
        self.errors.clear()
        served, self.reports = self.reports, []
        for callback, err, value in served:
            callback(err, value)
        return len(served)

    def settle(self, err: KafkaError | None = None, count: int | None = None) -> list[bytes]:
        """The broker acknowledges (or the client gives up on) the oldest ``count`` records."""
        done, self.in_flight = self.in_flight[:count], self.in_flight[len(self.in_flight[:count]) :]
        self.reports += [(callback, err, value) for value, callback in done]
        return [value for value, _ in done]

    def purge(self) -> None:
        self.purged = True


class Harness:
    def __init__(self, capacity: int = 4, max_in_flight: int = 2, buffer_limit: int = 1000) -> None:
        self.producers: list[FakeProducer] = []
        self.messages: list[str] = []

        def make(on_error: Callable[[KafkaError], None]) -> FakeProducer:
            self.producers.append(FakeProducer(on_error, buffer_limit))
            return self.producers[-1]

        self.outbox = Outbox(make, "frames", self, capacity, max_in_flight)

    @property
    def producer(self) -> FakeProducer:
        return self.producers[-1]

    def info(self, message: str) -> Any:
        self.messages.append(message)

    warning = info

    def put(self, *names: int) -> None:
        for n in names:
            self.outbox.put(b"cam", str(n).encode())


def balanced(stats: OutboxStats) -> bool:
    accounted = stats.delivered + stats.dropped + stats.failed + stats.queued + stats.in_flight
    return stats.received == accounted


def test_records_flow_in_order_while_the_broker_acknowledges() -> None:
    h = Harness(capacity=4, max_in_flight=2)
    delivered = []
    for n in range(6):
        h.put(n)
        delivered += h.producer.settle()
    h.outbox.pump()
    assert delivered == [str(n).encode() for n in range(6)]
    assert h.outbox.stats == OutboxStats(received=6, delivered=6)


def test_unreachable_broker_keeps_the_newest_records_and_counts_the_rest() -> None:
    h = Harness(capacity=4, max_in_flight=2)
    h.producer.errors.append(KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down"))
    h.put(*range(10))  # the outage shows at once: 0 goes out as a probe, 6..9 are kept, 1..5 dropped
    stats = h.outbox.stats
    assert (stats.in_flight, stats.queued, stats.dropped) == (1, 4, 5)
    assert balanced(stats)
    assert any("broker unreachable" in m for m in h.messages)
    assert h.producer.settle(TIMED_OUT) == [b"0"]
    h.outbox.pump()
    assert h.producer.settle(TIMED_OUT) == [b"6"]  # still away: one probe at a time
    h.outbox.pump()
    assert (h.outbox.stats.in_flight, h.outbox.stats.queued) == (1, 2)
    sent = h.producer.settle()  # the broker is back and acknowledges the probe ...
    h.outbox.pump()
    assert len(h.producer.in_flight) == 2  # ... so the full max_in_flight flows again
    sent += h.producer.settle()
    h.outbox.pump()
    assert sent == [b"7", b"8", b"9"]
    stats = h.outbox.stats
    assert stats == OutboxStats(received=10, delivered=3, dropped=5, failed=2)
    assert stats.lost == 7 and balanced(stats)
    assert any("broker reachable again; 7 records lost" in m for m in h.messages)


def test_a_full_client_queue_leaves_records_in_the_outbox() -> None:
    h = Harness(capacity=8, max_in_flight=5, buffer_limit=1)
    h.put(1, 2, 3)
    assert (h.outbox.stats.in_flight, h.outbox.stats.queued) == (1, 2)
    h.producer.settle()
    h.outbox.pump()
    h.outbox.pump()
    assert (h.outbox.stats.delivered, h.outbox.stats.in_flight, h.outbox.stats.queued) == (1, 1, 1)


def test_a_refused_record_is_counted_and_the_rest_still_flows() -> None:
    h = Harness()
    h.producer.refuse = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "Message size too large")
    h.put(1)
    h.producer.refuse = None
    h.put(2)
    h.producer.settle()
    h.outbox.pump()
    assert h.outbox.stats == OutboxStats(received=2, delivered=1, failed=1)
    assert any("refused by the producer: Message size too large" in m for m in h.messages)


@pytest.mark.parametrize("via", ["error_cb", "exception"])
def test_a_fatal_error_replaces_the_producer_without_losing_queued_records(via: str) -> None:
    h = Harness(capacity=4, max_in_flight=2)
    h.put(1, 2, 3)  # 1, 2 in flight, 3 queued
    fatal = KafkaError(KafkaError.UNKNOWN_PRODUCER_ID, "unknown producer id", fatal=True)
    first = h.producer
    if via == "error_cb":
        first.errors.append(fatal)
    else:

        def fail(_timeout: float) -> int:
            raise KafkaException(fatal)

        first.poll = fail  # type: ignore[method-assign]
    h.outbox.pump()
    assert len(h.producers) == 2 and first.purged
    first.settle()  # a late report from the replaced producer must not count twice
    h.outbox.pump()
    assert h.producer.in_flight == [(b"3", h.producer.in_flight[0][1])]
    h.producer.settle()
    h.outbox.pump()
    stats = h.outbox.stats
    assert stats == OutboxStats(received=3, delivered=1, failed=2, producer_resets=1)
    assert any("replacing it, 2 unacknowledged records lost" in m for m in h.messages)


def test_flush_sends_everything_queued() -> None:
    h = Harness(capacity=10, max_in_flight=1)
    h.put(*range(5))
    original_poll = h.producer.poll

    def poll_and_ack(timeout: float) -> int:
        h.producer.settle()
        return original_poll(timeout)

    h.producer.poll = poll_and_ack  # type: ignore[method-assign]
    stats = h.outbox.flush(timeout_s=2.0)
    assert stats == OutboxStats(received=5, delivered=5)


@pytest.mark.parametrize(("capacity", "max_in_flight"), [(0, 1), (1, 0)])
def test_sizes_must_be_positive(capacity: int, max_in_flight: int) -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        Harness(capacity, max_in_flight)
