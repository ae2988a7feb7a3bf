"""A bounded local queue in front of a Kafka producer that keeps the newest records (ROS-free).

When the broker is unreachable, librdkafka's own queue fills and then refuses the *newest*
message, while a camera wants the opposite: the latest frames matter, old ones can go. So the
producer is only ever given ``max_in_flight`` records (its ``queue.buffering.max.messages`` is
set to the same number) and everything else waits here, in a deque of ``capacity`` records
that evicts its oldest entry when full. Records handed to the producer either get acknowledged
or fail after its ``message.timeout.ms``; both are counted, so at any time::

    received == delivered + dropped + failed + queued + in_flight

While the broker is unreachable only one record at a time is handed over, as a probe: the
others stay in the deque rather than expire in the client, so the newest frames are the ones
sent when the broker is back. librdkafka reconnects by itself; the one case it cannot recover
from is a *fatal* error (for an idempotent producer, a broker that lost the producer's state,
e.g. a broker restarted on empty storage). Then the producer is replaced by a fresh one, its
unacknowledged records count
as failed, and the queued ones are sent by the new producer: the bridge never needs a restart.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException

Headers = Sequence[tuple[str, bytes]]
UNREACHABLE = (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT, KafkaError._RESOLVE)


class Logger(Protocol):
    def info(self, message: str) -> Any: ...

    def warning(self, message: str) -> Any: ...


ProducerFactory = Callable[[Callable[[KafkaError], None]], Any]
"""Makes a producer (``confluent_kafka.Producer``-like) given the ``error_cb`` it must call."""


@dataclass
class OutboxStats:
    received: int = 0
    """Records given to :meth:`Outbox.put`."""
    delivered: int = 0
    """Acknowledged by the broker."""
    dropped: int = 0
    """Evicted from the full local queue (the oldest ones) before being sent."""
    failed: int = 0
    """Sent but never acknowledged: delivery timeout, refused record, or a replaced producer."""
    queued: int = 0
    in_flight: int = 0
    producer_resets: int = 0

    @property
    def lost(self) -> int:
        return self.dropped + self.failed

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "lost": self.lost}


class Outbox:
    def __init__(
        self,
        make_producer: ProducerFactory,
        topic: str,
        logger: Logger,
        capacity: int = 24,
        max_in_flight: int = 12,
    ) -> None:
        if capacity < 1 or max_in_flight < 1:
            raise ValueError(f"capacity and max_in_flight must be >= 1, got {capacity} and {max_in_flight}")
        self.topic = topic
        self.max_in_flight = max_in_flight
        self._make_producer = make_producer
        self._logger = logger
        self._queue: deque[tuple[bytes, bytes, Headers]] = deque(maxlen=capacity)
        self._stats = OutboxStats()
        self._generation = 0
        self._fatal: KafkaError | None = None
        self._unreachable = False
        self._producer = make_producer(self._on_error)

    @property
    def unreachable(self) -> bool:
        """Whether the broker is away (since the client said so, until a record is delivered)."""
        return self._unreachable

    @property
    def stats(self) -> OutboxStats:
        return OutboxStats(**{**asdict(self._stats), "queued": len(self._queue)})

    def put(self, key: bytes, value: bytes, headers: Headers = ()) -> None:
        """Queue a record (evicting the oldest when full) and send what the producer can take."""
        self._stats.received += 1
        if len(self._queue) == self._queue.maxlen:
            self._stats.dropped += 1
        self._queue.append((key, value, headers))
        self.pump()

    def pump(self, timeout_s: float = 0.0) -> None:
        """Serve delivery reports (waiting up to ``timeout_s``) and hand queued records over."""
        try:
            self._producer.poll(timeout_s)
            # While the broker is away one record probes for its return; the rest stay here,
            # where the newest are kept, instead of timing out inside the client.
            limit = 1 if self._unreachable else self.max_in_flight
            while self._queue and self._stats.in_flight < limit and self._fatal is None:
                key, value, headers = self._queue[0]
                try:
                    self._producer.produce(
                        self.topic, value, key, headers=list(headers), on_delivery=self._delivery_callback()
                    )
                except BufferError:
                    break
                except KafkaException as err:
                    if err.args[0].fatal():
                        raise
                    self._queue.popleft()
                    self._stats.failed += 1
                    self._logger.warning(f"record refused by the producer: {err.args[0].str()}")
                    continue
                self._queue.popleft()
                self._stats.in_flight += 1
        except KafkaException as err:
            if not err.args[0].fatal():
                raise
            self._fatal = err.args[0]
        if self._fatal is not None:
            self._replace_producer()

    def flush(self, timeout_s: float) -> OutboxStats:
        """Send everything queued, waiting up to ``timeout_s`` for acknowledgements."""
        deadline = time.monotonic() + timeout_s
        while (self._queue or self._stats.in_flight) and (left := deadline - time.monotonic()) > 0:
            self.pump(min(left, 0.1))
        return self.stats

    def _delivery_callback(self) -> Callable[[KafkaError | None, Any], None]:
        generation = self._generation

        def delivered(err: KafkaError | None, _msg: Any) -> None:
            if generation != self._generation:
                return  # a replaced producer's record, already counted as failed
            self._stats.in_flight -= 1
            if err is None:
                self._stats.delivered += 1
                if self._unreachable:
                    self._unreachable = False
                    self._logger.info(f"broker reachable again; {self._stats.lost} records lost so far")
            else:
                self._stats.failed += 1

        return delivered

    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            self._fatal = err
        elif err.code() in UNREACHABLE and not self._unreachable:
            self._unreachable = True
            self._logger.warning(
                f"broker unreachable ({err.str()}); keeping the newest {self._queue.maxlen} records"
            )

    def _replace_producer(self) -> None:
        error, old = self._fatal, self._producer
        self._logger.warning(
            f"producer failed for good ({error.str() if error else 'unknown'}); replacing it, "
            f"{self._stats.in_flight} unacknowledged records lost"
        )
        self._generation += 1
        self._stats.failed += self._stats.in_flight
        self._stats.in_flight = 0
        self._stats.producer_resets += 1
        self._fatal = None
        with contextlib.suppress(KafkaException):  # a failed producer may refuse even this
            old.purge()
        self._producer = self._make_producer(self._on_error)
