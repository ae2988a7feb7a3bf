import json
import math

import pytest
from face_common.faces import Box, FaceEvent
from kafka_bridge.event_record import EVENT_SCHEMA_VERSION, EventRecordError, decode_event, encode_event

EVENT = FaceEvent("till-1", 1_764_000_000_123_456_789, 2, 17, 31.5, "female", Box(10, 20, 64, 64), 0.41, True)


@pytest.mark.parametrize(
    "event",
    [EVENT, FaceEvent("door", 5, 0, -1, math.nan, "", Box(0, 0, 1, 1), math.nan, False)],
)
def test_round_trip_keyed_by_camera(event: FaceEvent) -> None:
    key, value = encode_event(event)
    assert key == event.camera_id.encode()
    decoded = decode_event(value)
    assert decoded.as_dict() == event.as_dict()  # as_dict: NaN compares as None
    assert json.loads(value)["schema_version"] == EVENT_SCHEMA_VERSION


def _value(**changes: object) -> bytes:
    body = json.loads(encode_event(EVENT)[1])
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "a JSON list, not an object"),
        (_value(schema_version=2), "event schema version 2"),
        (_value(schema_version=...), "event schema version None"),
        (_value(face_id=...), "lacks field 'face_id'"),
        (_value(box=[1, 2]), "malformed field"),
        (_value(stamp_ns="soon"), "malformed field"),
    ],
)
def test_bad_records_are_clear_errors(value: bytes, message: str) -> None:
    with pytest.raises(EventRecordError, match=message):
        decode_event(value)
