"""Outbox logic against a fake producer that behaves like librdkafka's: reports only from poll();
lossy (frames) and durable with a spool file (events)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from face_sink.spool import Spool
from kafka_bridge import outbox
from kafka_bridge.outbox import STALLED_S, Outbox, OutboxStats

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
    def __init__(
        self,
        capacity: int = 4,
        max_in_flight: int = 2,
        buffer_limit: int = 1000,
        spool_path: Path | None = None,
    ) -> None:
        self.producers: list[FakeProducer] = []
        self.messages: list[str] = []

        def make(on_error: Callable[[KafkaError], None]) -> FakeProducer:
            self.producers.append(FakeProducer(on_error, buffer_limit))
            return self.producers[-1]

        spool = None if spool_path is None else str(spool_path)
        self.outbox = Outbox(make, "frames", self, capacity, max_in_flight, spool_path=spool)

    @property
    def producer(self) -> FakeProducer:
        return self.producers[-1]

    def info(self, message: str) -> Any:
        self.messages.append(message)

    warning = info

    def put(self, *names: int) -> list[str | None]:
        """Why each record was refused (None: accepted)."""
        return [self.outbox.put(b"cam", str(n).encode()) for n in names]


def balanced(stats: OutboxStats) -> bool:
    accounted = stats.delivered + stats.dropped + stats.failed + stats.queued + stats.in_flight
    return stats.replayed + stats.received == accounted


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


def spooled(path: Path) -> list[bytes | None]:
    spool = Spool(path, capacity=100)
    try:
        return [r.value for r in spool.read()]
    finally:
        spool.close()


def test_durable_outbox_retries_failed_deliveries_and_forgets_acknowledged_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.spool"
    h = Harness(capacity=10, max_in_flight=2, spool_path=path)
    h.producer.errors.append(KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down"))
    h.put(*range(4))
    assert h.producer.settle(TIMED_OUT) == [b"0"]  # the probe fails: 0 goes back to the head
    h.outbox.pump()
    assert h.producer.settle(TIMED_OUT) == [b"0"]
    h.outbox.pump()
    sent = h.producer.settle()  # the broker is back
    for _ in range(3):
        h.outbox.pump()
        sent += h.producer.settle()
    h.outbox.pump()
    assert sent == [b"0", b"1", b"2", b"3"]  # in order, each once, none lost
    assert h.outbox.stats == OutboxStats(received=4, delivered=4, retried=2)
    h.outbox.close()
    assert spooled(path) == []


def test_durable_outbox_sends_what_an_earlier_process_left_first(tmp_path: Path) -> None:
    path = tmp_path / "events.spool"
    h = Harness(capacity=10, max_in_flight=2, spool_path=path)
    h.put(0, 1)
    h.outbox.put(b"face:7", None)  # a tombstone
    h.put(3)
    h.producer.settle(count=1)  # 0 acknowledged; 1 in flight, the rest queued: then the crash
    h.outbox.pump()
    h.outbox.close()
    assert spooled(path) == [b"1", None, b"3"]

    h = Harness(capacity=10, max_in_flight=10, spool_path=path)
    h.put(4)
    assert [value for value, _ in h.producer.in_flight] == [b"1", None, b"3", b"4"]
    h.producer.settle()
    h.outbox.pump()
    assert h.outbox.stats == OutboxStats(received=1, replayed=3, delivered=4)
    h.outbox.close()
    assert spooled(path) == []


def test_a_full_spool_refuses_the_newest_record_and_keeps_the_accepted(tmp_path: Path) -> None:
    h = Harness(capacity=3, max_in_flight=1, spool_path=tmp_path / "events.spool")
    assert h.put(*range(5)) == [None, None, None, "spool full (3 records)", "spool full (3 records)"]
    stats = h.outbox.stats
    assert (stats.dropped, stats.in_flight, stats.queued) == (2, 1, 2) and balanced(stats)
    sent = []
    for _ in range(3):
        sent += h.producer.settle()
        h.outbox.pump()
    assert sent == [b"0", b"1", b"2"] and h.put(5) == [None]
    h.outbox.close()


def test_a_replaced_producer_s_unacknowledged_records_are_sent_again(tmp_path: Path) -> None:
    h = Harness(capacity=4, max_in_flight=2, spool_path=tmp_path / "events.spool")
    h.put(1, 2, 3)
    first = h.producer
    first.errors.append(KafkaError(KafkaError.UNKNOWN_PRODUCER_ID, "unknown producer id", fatal=True))
    h.outbox.pump()
    assert len(h.producers) == 2 and first.purged
    first.settle()  # a late report from the replaced producer changes nothing
    sent = []
    for _ in range(3):
        h.outbox.pump()
        sent += h.producer.settle()
    h.outbox.pump()
    assert sent == [b"1", b"2", b"3"]
    assert h.outbox.stats == OutboxStats(received=3, delivered=3, retried=2, producer_resets=1)
    assert any("2 unacknowledged records queued again" in m for m in h.messages)
    h.outbox.close()


def test_a_refused_record_stays_in_the_durable_outbox(tmp_path: Path) -> None:
    h = Harness(spool_path=tmp_path / "events.spool")
    h.producer.refuse = KafkaError(KafkaError._UNKNOWN_TOPIC, "Unknown topic")
    h.put(1)
    h.outbox.pump()
    h.outbox.pump()
    assert sum("refused by the producer: Unknown topic" in m for m in h.messages) == 1
    h.producer.refuse = None
    h.outbox.pump()
    assert h.producer.settle() == [b"1"]
    h.outbox.pump()
    assert (h.outbox.stats.delivered, h.outbox.stats.failed, h.outbox.stats.retried) == (1, 0, 3)
    h.outbox.close()


def test_a_producer_that_delivers_nothing_for_stalled_s_is_replaced_and_its_records_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broker restarted on empty storage: librdkafka retries the old producer id for ever
    without a fatal error (found by the chaos run); a delivery meanwhile keeps the producer."""
    now = [1000.0]
    monkeypatch.setattr(outbox.time, "monotonic", lambda: now[0])
    h = Harness(capacity=4, max_in_flight=2, spool_path=tmp_path / "spool.sqlite")
    h.put(1, 2, 3)
    for _ in range(2):  # one delivery inside the period restarts the count
        now[0] += STALLED_S - 1
        h.outbox.pump()
        assert len(h.producers) == 1
        h.producer.settle(count=1)
        h.outbox.pump()
    now[0] += STALLED_S + 1  # record 3 waits on, nothing delivered for longer than STALLED_S
    h.outbox.pump()
    h.outbox.pump()
    assert len(h.producers) == 2 and h.producers[0].purged
    assert [value for value, _ in h.producer.in_flight] == [b"3"]  # queued again, from the spool
    h.producer.settle()
    h.outbox.pump()
    assert h.outbox.stats.delivered == 3 and h.outbox.stats.producer_resets == 1
    assert any("nothing delivered in" in m for m in h.messages)
