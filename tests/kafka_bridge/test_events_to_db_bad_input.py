"""events_to_db on bad input, collisions and erasure tombstones (issue 12).

Property tests (Hypothesis, bounded) over the record decoder and over the consumer's batch logic
with a fake consumer and a real SQLite store; then the real command against tansu and MariaDB:
after each bad record (overflowing numbers, out-of-range indices, wrong types, truncated JSON,
random bytes, ...) it is still running and writes the next good event; a key collision is a
reported error; a tombstone erases a face and a replay of the topic from the start leaves none.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from pathlib import Path

import pytest
from events_to_db_support import (
    T0_NS,
    EventsToDb,
    FakeRecord,
    make_event,
    produce,
    record,
    sink_with,
    unique,
)
from face_common.faces import GENDERS, Box, FaceEvent
from face_sink.schema import BIGINT_RANGE, INT_RANGE, MAX_AGE, MAX_CAMERA_ID_LENGTH, EventStore, event_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kafka_bridge.event_record import (
    EventRecordError,
    decode_event,
    encode_event,
    erased_face_id,
    erasure_record,
)
from kafka_bridge.local_broker import LocalBroker
from kafka_bridge.topics import ensure_topics, events_topic
from ros_processes import exit_counters, wait_until

# --- the decoder: any bytes give an event the schema holds, or EventRecordError ---------------

ints = st.integers(-(2**70), 2**70)
reals = st.floats(allow_nan=True, allow_infinity=True) | ints
json_values = st.recursive(
    st.none() | st.booleans() | ints | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=10,
)
valid_events = st.builds(
    FaceEvent,
    camera_id=st.text(min_size=1, max_size=MAX_CAMERA_ID_LENGTH).filter(lambda t: t.isprintable()),
    stamp_ns=st.integers(0, BIGINT_RANGE[1]),
    face_index=st.integers(0, INT_RANGE[1]),
    face_id=st.integers(-1, BIGINT_RANGE[1]),
    age=st.just(math.nan) | st.floats(0.0, MAX_AGE),
    gender=st.sampled_from(("", *GENDERS)),
    box=st.builds(Box, *[st.integers(*INT_RANGE)] * 2, *[st.integers(0, INT_RANGE[1])] * 2),
    distance=st.just(math.nan) | st.floats(allow_nan=False, allow_infinity=False),
    new_face=st.booleans(),
)


def _decodes_to_a_storable_event_or_refuses(value: bytes) -> None:
    try:
        event = decode_event(value)
    except EventRecordError:
        return
    event_row(event)  # what decodes, every table holds exactly


@given(st.binary(max_size=300))
def test_random_bytes_never_escape_as_anything_but_a_record_error(value: bytes) -> None:
    _decodes_to_a_storable_event_or_refuses(value)


@given(valid_events, st.sampled_from(sorted(make_event("c", 0).as_dict())), json_values | reals)
def test_any_value_in_any_field_is_decoded_exactly_or_refused(
    event: FaceEvent, name: str, value: object
) -> None:
    body = json.loads(encode_event(event)[1])
    body[name] = value
    _decodes_to_a_storable_event_or_refuses(json.dumps(body).encode())


@given(valid_events)
def test_every_event_the_schema_holds_round_trips_unchanged(event: FaceEvent) -> None:
    decoded = decode_event(encode_event(event)[1])
    assert decoded.as_dict() == event.as_dict() and event_row(decoded) == event_row(event)


@given(st.integers(0, BIGINT_RANGE[1]))
def test_the_tombstone_key_names_its_face_and_nothing_else_does(face_id: int) -> None:
    tombstone_key, value = erasure_record(face_id)
    assert value is None and tombstone_key == f"face:{face_id}".encode()
    assert erased_face_id(tombstone_key) == face_id
    for other in (b"door", b"face:", b"face:-1", b"face:07", b"face:1 ", f"face:{2**63}".encode(), None):
        assert erased_face_id(other) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"[" * 100_000, "not JSON"),  # nesting deeper than the parser's recursion
        (b'{"v": ' + b"9" * 5000 + b"}", "not JSON"),  # more digits than int() reads
        (b'{"schema_version": NaN}', "not JSON"),
        (b'{"schema_version": true}', "schema version True"),
        (b'{"schema_version": 1.0}', "schema version 1.0"),
    ],
)
def test_pathological_json_is_a_record_error(value: bytes, message: str) -> None:
    with pytest.raises(EventRecordError, match=message):
        decode_event(value)


# --- the consumer's batch logic: every record is accounted for, offsets always pass it -------

records_in_a_batch = st.lists(
    st.one_of(
        st.tuples(st.just("event"), st.integers(0, 5), st.integers(0, 2)),  # few keys: replays
        st.tuples(st.just("collision"), st.integers(0, 5), st.integers(0, 2)),
        st.tuples(st.just("bytes"), st.binary(max_size=40)),
        st.tuples(st.just("tombstone"), st.integers(1, 7)),
        st.tuples(
            st.just("field"), st.sampled_from(sorted(make_event("c", 0).as_dict())), json_values | reals
        ),
    ),
    max_size=25,
)


# A store per example: bounded apart from the profile's example count (tests/conftest.py).
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(batches=st.lists(records_in_a_batch, min_size=1, max_size=3))
def test_any_records_are_rows_replays_collisions_erasures_or_dead_letters(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[tuple]]
) -> None:
    fake_batches = []
    offset = 0
    for batch in batches:
        fake = []
        for kind, *args in batch:
            if kind == "event":
                fake.append(record(0, offset, make_event("a", args[0], args[1])))
            elif kind == "collision":
                changed = FaceEvent(**{**vars(make_event("a", args[0], args[1])), "age": 99.5})
                fake.append(record(0, offset, changed))
            elif kind == "bytes":
                fake.append(FakeRecord(0, offset, args[0]))
            elif kind == "tombstone":
                fake.append(FakeRecord(0, offset, None, key=f"face:{args[0]}".encode()))
            else:
                body = json.loads(encode_event(make_event("b", offset))[1])
                body[args[0]] = args[1]
                fake.append(FakeRecord(0, offset, json.dumps(body).encode()))
            offset += 1
        fake_batches.append(fake)
    sink, consumer, _ = sink_with(tmp_path_factory.mktemp("db"), fake_batches)
    for _ in fake_batches:
        sink.step()
    stats = sink.stats()
    accounted = ("written", "duplicates", "collisions", "suppressed", "undecodable", "invalid", "tombstones")
    assert stats["received"] == offset == sum(stats[name] for name in accounted)
    assert stats["dead_letters"] <= stats["undecodable"] + stats["invalid"] + stats["collisions"]
    assert stats["pending"] == 0 and (offset == 0 or consumer.commits[-1][0] == {0: offset})


# --- the real command against tansu and MariaDB ----------------------------------------------

GOOD = make_event("door", 0)


def _with(**changes: object) -> bytes:
    """GOOD's record with fields changed (``...``: left out), as compact JSON like the producer's."""
    body = {**json.loads(encode_event(GOOD)[1]), **changes}
    return json.dumps({k: v for k, v in body.items() if v is not ...}, separators=(",", ":")).encode()


BAD_RECORDS = [
    (
        "stamp_ns 1e400",
        _with(stamp_ns=0).replace(b'"stamp_ns":0', b'"stamp_ns":1e400'),
        "stamp_ns must be an integer",
    ),
    ("stamp_ns 2^64", _with(stamp_ns=2**64), "stamp_ns 18446744073709551616 is outside"),
    ("face_index 2^31", _with(face_index=2**31), "face_index 2147483648 is outside 0..2147483647"),
    ("face_index -1", _with(face_index=-1), "face_index -1 is outside"),
    ("face_id '7'", _with(face_id="7"), "face_id must be an integer, got str"),
    ("face_index 1.0", _with(face_index=1.0), "face_index must be an integer, got float"),
    ("age 1e400", _with().replace(b'"age":20.0', b'"age":1e400'), "age inf is not a finite number"),
    ("age -3", _with(age=-3), "age -3 is not a finite number"),
    ("gender", _with(gender="robot"), "gender must be one of"),
    ("box of 3", _with(box=[1, 2, 3]), "box \\[1, 2, 3\\] is not"),
    ("box 2^31", _with(box=[0, 0, 2**31, 1]), "box w 2147483648 is outside"),
    ("new_face 1", _with(new_face=1), "new_face must be true or false"),
    ("camera id 65", _with(camera_id="c" * 65), "camera id must be 1..64"),
    ("missing field", _with(face_id=...), "lacks field 'face_id'"),
    ("version 2", _with(schema_version=2), "event schema version 2"),
    ("truncated JSON", encode_event(GOOD)[1][:40], "not JSON"),
    ("random bytes", random.Random(12).randbytes(64), "not JSON"),
    ("5000 digits", _with(stamp_ns=0).replace(b'"stamp_ns":0', b'"stamp_ns":' + b"7" * 5000), "not JSON"),
    ("empty value", b"", "not JSON"),
    ("JSON list", b"[1, 2]", "a JSON list, not an object"),
]


def start_sink(kafka_broker: LocalBroker, mariadb: str, tmp_path: Path, partitions: int = 2) -> tuple:
    topic = unique("events")
    ensure_topics({"bootstrap.servers": kafka_broker.bootstrap}, [events_topic(topic, partitions=partitions)])
    sink = EventsToDb(tmp_path / "events_to_db.log", kafka_broker.bootstrap, topic, unique("g"), mariadb)
    sink.start()
    return topic, sink


def test_after_every_bad_record_the_running_consumer_writes_the_next_good_event(
    kafka_broker: LocalBroker, mariadb: str, mysql_store: EventStore, tmp_path: Path
) -> None:
    topic, sink = start_sink(kafka_broker, mariadb, tmp_path)
    started = time.monotonic()
    try:
        for n, (name, value, _) in enumerate(BAD_RECORDS):
            good = make_event("door", n + 1)
            produce(kafka_broker.bootstrap, topic, [(b"door", value), encode_event(good)])
            assert wait_until(lambda n=n: mysql_store.count_events() == n + 1, 60), f"{name}\n{sink.log()}"
            assert sink.process.poll() is None, f"events_to_db exited after {name}\n{sink.log()}"
        # The clipped value of the refused face_index 2^31 is a new, valid event, no "duplicate".
        clipped = FaceEvent(**{**vars(GOOD), "face_index": 2**31 - 1})
        produce(kafka_broker.bootstrap, topic, [encode_event(clipped)])
        assert wait_until(lambda: mysql_store.count_events() == len(BAD_RECORDS) + 1, 60), sink.log()
        stats = sink.stop()
    finally:
        sink.kill()
    took_s = time.monotonic() - started
    letters = sorted(mysql_store.read_dead_letters(), key=lambda d: d.received_ns)
    print(f"\n{len(BAD_RECORDS)} bad records, each followed by a good one, in {took_s:.1f} s: {stats}")
    assert stats["invalid"] + stats["undecodable"] == stats["dead_letters"] == len(BAD_RECORDS)
    assert stats["written"] == len(BAD_RECORDS) + 1 and stats["duplicates"] == stats["collisions"] == 0
    assert {e.face_index for e in mysql_store.read_events()} == {0, 2**31 - 1}
    assert len(letters) == len(BAD_RECORDS)
    for (name, value, reason), letter in zip(BAD_RECORDS, letters, strict=True):
        assert letter.source == f"kafka:{topic}", name
        assert re.search(reason, letter.reason), (name, letter.reason)
        assert letter.payload == value[:1024], name
    assert "to the dead letters" in sink.log()


def test_a_key_collision_is_a_reported_error_and_an_identical_replay_a_duplicate(
    kafka_broker: LocalBroker, mariadb: str, mysql_store: EventStore, tmp_path: Path
) -> None:
    topic, sink = start_sink(kafka_broker, mariadb, tmp_path, partitions=1)
    other = FaceEvent(**{**vars(GOOD), "face_id": 42, "gender": "female"})
    try:
        produce(kafka_broker.bootstrap, topic, [encode_event(e) for e in (GOOD, GOOD, other, GOOD)])
        produce(kafka_broker.bootstrap, topic, [encode_event(make_event("door", 1))])
        assert wait_until(lambda: mysql_store.count_events() == 2, 60), sink.log()
        stats = sink.stop()
    finally:
        sink.kill()
    print(f"\ncollision: {stats}")
    assert (stats["written"], stats["duplicates"], stats["collisions"], stats["dead_letters"]) == (2, 2, 1, 1)
    [letter] = mysql_store.read_dead_letters()
    assert (letter.source, letter.position, letter.face_id) == (f"kafka:{topic}", "0@2", 42)
    assert letter.reason == (f"key collision: ('door', {T0_NS}, 0) is stored with other face_id, gender")
    assert json.loads(letter.payload)["face_id"] == 42
    assert mysql_store.read_events()[0] == GOOD  # the first write stands
    assert "collisions so far" in sink.log()


def test_mysql_keys_ignore_case_so_door_and_door_collide_and_it_is_reported(mysql_store: EventStore) -> None:
    """MySQL's default collation compares camera ids without case: ``Door`` takes ``door``'s key."""
    upper = FaceEvent(**{**vars(GOOD), "camera_id": "Door"})
    assert mysql_store.write_events([GOOD, upper]) == 1
    [letter] = mysql_store.read_dead_letters()
    assert letter.reason == f"key collision: ('Door', {T0_NS}, 0) is stored with other camera_id"


def test_a_tombstone_erases_the_face_and_a_replay_of_the_topic_leaves_none(
    kafka_broker: LocalBroker, mariadb: str, mysql_store: EventStore, tmp_path: Path
) -> None:
    topic, sink = start_sink(kafka_broker, mariadb, tmp_path, partitions=3)
    # make_event gives face ID 1 + n % 7: face 3 is n = 2, 9, 16, ... on every camera.
    events = [make_event(camera, n) for camera in ("door", "till", "aisle") for n in range(21)]
    erased = 3
    of_face = [e for e in events if e.face_id == erased]
    try:
        produce(kafka_broker.bootstrap, topic, [encode_event(e) for e in events])
        assert wait_until(lambda: mysql_store.count_events() == len(events), 60), sink.log()
        produce(kafka_broker.bootstrap, topic, [erasure_record(erased)])
        gone = len(events) - len(of_face)
        assert wait_until(lambda: mysql_store.count_events() == gone, 60), sink.log()
        live = sink.stop()
        # Replay the whole topic from the start with a new group: the face's events come again.
        replay = EventsToDb(tmp_path / "replay.log", kafka_broker.bootstrap, topic, unique("g"), mariadb)
        replay.start("--exit-when-idle-s", "2")
        assert replay.process.wait(timeout=90) == 0, replay.log()
        replayed = exit_counters(replay.log(), "stats: ")
    finally:
        sink.kill()
    print(f"\nerasure: live {live}; replay {replayed}")
    assert live["tombstones"] == 1 and live["erased"] == len(of_face) == 9
    assert erased not in {e.face_id for e in mysql_store.read_events()}
    assert mysql_store.count_events() == gone and mysql_store.erased_face_ids() == {erased}
    assert replayed["suppressed"] == len(of_face) and replayed["tombstones"] == 1
    assert replayed["written"] == 0 and replayed["duplicates"] == gone and replayed["collisions"] == 0
    assert all(v.face_id != erased for v in mysql_store.read_visits())
