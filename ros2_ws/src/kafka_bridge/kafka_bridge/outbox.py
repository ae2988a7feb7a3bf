"""A bounded local queue in front of a Kafka producer: lossy for frames, durable for events (ROS-free).

When the broker is unreachable, librdkafka's own queue fills and then refuses the *newest*
message, while a camera wants the opposite: the latest frames matter, old ones can go. So the
producer is only ever given ``max_in_flight`` records (its ``queue.buffering.max.messages`` is
set to the same number) and everything else waits here, in a deque of ``capacity`` records
that evicts its oldest entry when full. Records handed to the producer either get acknowledged
or fail after its ``message.timeout.ms``; both are counted, so at any time::

    replayed + received == delivered + dropped + failed + queued + in_flight

While the broker is unreachable only one record at a time is handed over, as a probe: the
others stay in the deque rather than expire in the client, so the newest frames are the ones
sent when the broker is back. librdkafka reconnects by itself; what it cannot recover from is a
*fatal* error, or a broker that lost the idempotent producer's state (a broker restarted on empty
storage answers every record with UNKNOWN_PRODUCER_ID, which librdkafka retries without end and
without a fatal error: found by the chaos run, bench/chaos.py). So a producer that raised a fatal
error, or that delivered nothing for ``STALLED_S`` while it had records to send, is replaced by a
fresh one (a new producer id), its unacknowledged records count as failed, and the queued ones
are sent by the new producer: the bridge never needs a restart.

Events are the product's output, so with a ``spool_path`` the outbox is durable instead
(``face_sink.spool``): a record is in the spool on disk before :meth:`Outbox.put` returns and
leaves it only when the broker acknowledged it; a failed delivery, or a replaced producer's
unacknowledged records, are queued again rather than lost (counted ``retried``); a new outbox
sends what an earlier process left in the spool first (``replayed``); a full spool refuses the
newest record (``dropped``) instead of evicting accepted ones. A record the broker acknowledged
just before a crash, while still in the spool, is sent again after the restart (at least once):
the idempotent producer removes duplicates within one producer's life only, so consumers key on
the event's natural key (``events_to_db``'s rows do).
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException
from face_sink.spool import Spool

Headers = Sequence[tuple[str, bytes]]
Entry = tuple[int, bytes, bytes | None, Headers]
"""A record waiting here: its number (the spool's seq when durable), key, value (None: a
tombstone) and headers."""
UNREACHABLE = (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT, KafkaError._RESOLVE)
STALLED_S = 10.0
"""A producer with records to send that delivered none for this long is replaced (module
docstring); while the broker is really down that only renews a producer that cannot connect."""


class Logger(Protocol):
    def info(self, message: str) -> Any: ...

    def warning(self, message: str) -> Any: ...


ProducerFactory = Callable[[Callable[[KafkaError], None]], Any]
"""Makes a producer (``confluent_kafka.Producer``-like) given the ``error_cb`` it must call."""


@dataclass
class OutboxStats:
    received: int = 0
    """Records given to :meth:`Outbox.put`."""
    replayed: int = 0
    """Records an earlier process left in the spool, found at start."""
    delivered: int = 0
    """Acknowledged by the broker."""
    dropped: int = 0
    """Not sent: evicted from the full local queue (the oldest), or refused by a full spool (the newest)."""
    failed: int = 0
    """Sent but never acknowledged and given up: delivery timeout, refused record, replaced producer."""
    retried: int = 0
    """Durable outbox: deliveries that failed and were queued again."""
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
        spool_path: str | None = None,
    ) -> None:
        if capacity < 1 or max_in_flight < 1:
            raise ValueError(f"capacity and max_in_flight must be >= 1, got {capacity} and {max_in_flight}")
        self.topic = topic
        self.max_in_flight = max_in_flight
        self._make_producer = make_producer
        self._logger = logger
        self._spool = None if spool_path is None else Spool(spool_path, capacity)
        # Durable: the deque mirrors the spool's unsent records, which bounds it.
        self._queue: deque[Entry] = deque(maxlen=capacity if self._spool is None else None)
        self._sent: dict[int, Entry] = {}
        self._acknowledged: list[int] = []
        self._numbers = itertools.count()
        self._stats = OutboxStats()
        if self._spool is not None:
            self._queue.extend((r.seq, r.key, r.value, ()) for r in self._spool.read())
            self._stats.replayed = len(self._queue)
        self._generation = 0
        self._fatal: KafkaError | None = None
        self._waiting_since: float | None = None
        """Since when records wait with nothing delivered (None: nothing waits)."""
        self._unreachable = False
        self._refusal: str | None = None
        """The producer's last refusal of a record, logged once until a record is taken again."""
        self._producer = make_producer(self._on_error)

    @property
    def unreachable(self) -> bool:
        """Whether the broker is away (since the client said so, until a record is delivered)."""
        return self._unreachable

    @property
    def spool(self) -> Spool | None:
        return self._spool

    @property
    def stats(self) -> OutboxStats:
        return OutboxStats(
            **{**asdict(self._stats), "queued": len(self._queue), "in_flight": len(self._sent)}
        )

    def put(self, key: bytes, value: bytes | None, headers: Headers = ()) -> str | None:
        """Queue a record and send what the producer can take; why it was refused, if it was (a
        durable outbox's spool full or unwritable; without a spool the oldest queued record is
        evicted instead)."""
        self._stats.received += 1
        if self._spool is None:
            if len(self._queue) == self._queue.maxlen:
                self._stats.dropped += 1
            self._queue.append((next(self._numbers), key, value, headers))
        else:
            if headers:
                raise ValueError("a durable outbox keeps no record headers")
            try:
                stored = self._spool.append([(key, value)])
            except sqlite3.Error as err:  # the spool's disk is full or failing
                self._stats.dropped += 1
                return f"spool {self._spool.path} not writable: {err}"
            if not stored:
                self._stats.dropped += 1
                return f"spool full ({self._spool.capacity} records)"
            self._queue.append((stored[0], key, value, ()))
        self.pump()
        return None

    def pump(self, timeout_s: float = 0.0) -> None:
        """Serve delivery reports (waiting up to ``timeout_s``) and hand queued records over."""
        try:
            self._producer.poll(timeout_s)
            now = time.monotonic()
            if not (self._queue or self._sent):
                self._waiting_since = None
            elif self._waiting_since is None:
                self._waiting_since = now
            elif now - self._waiting_since > STALLED_S:
                self._replace_producer(f"nothing delivered in {STALLED_S:g} s")
            if self._acknowledged:  # one spool commit for the acknowledgements of this poll
                self._spool.remove(self._acknowledged)
                self._acknowledged.clear()
            # While the broker is away one record probes for its return; the rest stay here
            # (the newest, or all with a spool) instead of timing out inside the client.
            limit = 1 if self._unreachable else self.max_in_flight
            while self._queue and len(self._sent) < limit and self._fatal is None:
                entry = self._queue.popleft()
                number, key, value, headers = entry
                try:
                    self._producer.produce(
                        self.topic,
                        value,
                        key,
                        headers=list(headers),
                        on_delivery=self._delivery_callback(entry),
                    )
                except BufferError:
                    self._queue.appendleft(entry)
                    break
                except KafkaException as err:
                    if err.args[0].fatal():
                        self._queue.appendleft(entry)
                        raise
                    if err.args[0].str() != self._refusal:  # once per kind, not per retry
                        self._refusal = err.args[0].str()
                        self._logger.warning(f"record refused by the producer: {self._refusal}")
                    if self._spool is not None:  # kept: sent again on the next pump, not lost
                        self._retry([entry])
                        break
                    self._stats.failed += 1
                    continue
                self._sent[number] = entry
                self._refusal = None
        except KafkaException as err:
            if not err.args[0].fatal():
                raise
            self._fatal = err.args[0]
        if self._fatal is not None:
            self._replace_producer(self._fatal.str())

    def flush(self, timeout_s: float) -> OutboxStats:
        """Send everything queued, waiting up to ``timeout_s`` for acknowledgements."""
        deadline = time.monotonic() + timeout_s
        while (self._queue or self._sent) and (left := deadline - time.monotonic()) > 0:
            self.pump(min(left, 0.1))
        return self.stats

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()

    def _delivery_callback(self, entry: Entry) -> Callable[[KafkaError | None, Any], None]:
        generation = self._generation

        def delivered(err: KafkaError | None, _msg: Any) -> None:
            if generation != self._generation:
                return  # a replaced producer's record, already counted
            del self._sent[entry[0]]
            if err is not None:
                self._unacknowledged([entry])
                return
            self._stats.delivered += 1
            self._waiting_since = None
            if self._spool is not None:
                self._acknowledged.append(entry[0])
            if self._unreachable:
                self._unreachable = False
                self._logger.info(f"broker reachable again; {self._stats.lost} records lost so far")

        return delivered

    def _unacknowledged(self, entries: Sequence[Entry]) -> None:
        """Records the broker never acknowledged: lost (counted) without a spool, else sent again."""
        if self._spool is None:
            self._stats.failed += len(entries)
        else:
            self._retry(entries)

    def _retry(self, entries: Sequence[Entry]) -> None:
        again = sorted(entries, reverse=True)
        self._stats.retried += len(again)
        self._queue.extendleft(again)  # oldest first, ahead of the rest

    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            self._fatal = err
        elif err.code() in UNREACHABLE and not self._unreachable:
            self._unreachable = True
            kept = "every record in the spool" if self._spool else f"the newest {self._queue.maxlen} records"
            self._logger.warning(f"broker unreachable ({err.str()}); keeping {kept}")

    def _replace_producer(self, why: str) -> None:
        old = self._producer
        what = "queued again" if self._spool is not None else "lost"
        self._logger.warning(
            f"producer failed for good ({why}); replacing it, {len(self._sent)} unacknowledged records {what}"
        )
        self._waiting_since = None
        self._generation += 1
        self._unacknowledged(list(self._sent.values()))
        self._sent.clear()
        self._stats.producer_resets += 1
        self._fatal = None
        with contextlib.suppress(KafkaException):  # a failed producer may refuse even this
            old.purge()
        self._producer = self._make_producer(self._on_error)
