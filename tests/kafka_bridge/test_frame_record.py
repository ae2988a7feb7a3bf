import pytest
from face_common.faces import FrameRef
from kafka_bridge.frame_record import FrameMeta, FrameRecordError

META = FrameMeta(
    FrameRef("till-1", 1_764_000_000_000_000_001), seq=42, encoding="jpeg", width=1280, height=720
)


def test_headers_round_trip() -> None:
    assert FrameMeta.from_headers(META.headers()) == META


def _without(name: str) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in META.headers() if k != name]


def _with(name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [(k, value if k == name else v) for k, v in META.headers()]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (None, "lacks header 'schema_version'"),
        (_without("camera_id"), "lacks header 'camera_id'"),
        (_with("schema_version", b"2"), "schema version 2"),
        (_with("encoding", b"h264"), "unknown frame encoding 'h264'"),
        (_with("width", b"wide"), "malformed header"),
    ],
)
def test_bad_headers_are_clear_errors(headers: list[tuple[str, bytes]] | None, message: str) -> None:
    with pytest.raises(FrameRecordError, match=message):
        FrameMeta.from_headers(headers)
