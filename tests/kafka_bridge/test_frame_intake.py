import numpy as np
import pytest
from face_common.faces import FrameRef
from face_common.settings import setting_fields
from face_detect_node.face_detect_node import IMAGE_QOS
from kafka_bridge.frame_intake import CommitTracker, FrameIntake, FramesInSettings, InFlight, Position
from kafka_bridge.frame_record import FrameMeta, FrameRecordError, encode_image

NOW_NS = 1_800_000_000 * 10**9
IMAGE = np.full((24, 32, 3), 120, np.uint8)


def record(age_s: float, encoding: str = "bgr8") -> tuple[bytes, list[tuple[str, bytes]]]:
    meta = FrameMeta(FrameRef("cam", NOW_NS - round(age_s * 1e9)), 0, encoding, 32, 24)
    return encode_image(IMAGE, encoding), meta.headers()


@pytest.mark.parametrize(
    ("max_age_s", "ages_s", "decoded", "too_old"),
    [
        (0.0, [0.1, 5.0, 3600.0], 3, 0),
        (2.0, [0.1, 1.9, 2.1, 3600.0], 2, 2),
        (2.0, [-0.5], 1, 0),  # a camera clock slightly ahead is not "old"
    ],
)
def test_frames_older_than_max_age_are_skipped_and_counted(
    max_age_s: float, ages_s: list[float], decoded: int, too_old: int
) -> None:
    intake = FrameIntake(max_age_s)
    results = [intake.accept(*record(age), NOW_NS) for age in ages_s]
    assert sum(r is not None for r in results) == decoded
    assert intake.stats.as_dict() == {
        "received": len(ages_s),
        "decoded": decoded,
        "too_old": too_old,
        "bad": 0,
    }
    meta, image = next(r for r in results if r is not None)
    assert meta.frame.camera_id == "cam" and np.array_equal(image, IMAGE)


def test_stale_frames_are_not_decoded() -> None:
    _, headers = record(10.0, "jpeg")
    assert FrameIntake(1.0).accept(b"corrupt", headers, NOW_NS) is None


@pytest.mark.parametrize(
    ("value", "headers"),
    [(b"x", None), (b"corrupt", record(0.0, "jpeg")[1]), (None, record(0.0)[1])],
)
def test_unreadable_records_raise_and_are_counted(value: bytes | None, headers: list | None) -> None:
    intake = FrameIntake(0.0)
    with pytest.raises(FrameRecordError):
        intake.accept(value, headers, NOW_NS)
    assert intake.stats.bad == 1 and intake.stats.decoded == 0


def test_negative_max_age_is_refused() -> None:
    with pytest.raises(ValueError, match="max_frame_age_s must be >= 0"):
        FrameIntake(-1.0)


def test_a_frame_is_admitted_from_its_headers_and_decoded_apart() -> None:
    intake = FrameIntake(1.0)
    value, headers = record(0.5, "jpeg")
    meta = intake.admit(headers, NOW_NS)
    assert meta is not None and intake.stats.decoded == 0  # a live drop after this costs no decode
    assert intake.decode(meta, value).shape == IMAGE.shape
    with pytest.raises(FrameRecordError):
        intake.decode(meta, b"corrupt")
    assert intake.stats.as_dict() == {"received": 1, "decoded": 1, "too_old": 0, "bad": 1}


def position(offset: int, partition: int = 0) -> Position:
    return Position("frames", partition, offset)


def test_in_flight_frames_hold_a_cameras_room_until_acknowledged_or_given_up() -> None:
    in_flight = InFlight(limit=2, timeout_s=10.0)
    in_flight.sent(FrameRef("a", 1), position(0), now_s=0.0)
    in_flight.sent(FrameRef("a", 2), position(1), now_s=1.0)
    in_flight.sent(FrameRef("b", 1), position(0, partition=1), now_s=1.0)
    assert (in_flight.room("a"), in_flight.room("b"), in_flight.room("new"), len(in_flight)) == (0, 1, 2, 3)
    assert in_flight.acknowledged(FrameRef("a", 2)) == position(1)  # out of order is fine
    assert in_flight.acknowledged(FrameRef("a", 2)) is None  # a replayed acknowledgement
    assert in_flight.acknowledged(FrameRef("a", 99)) is None and in_flight.room("a") == 1
    assert in_flight.expired(now_s=9.9) == []
    assert in_flight.expired(now_s=10.0) == [position(0)]
    assert in_flight.expired(now_s=11.0) == [position(0, partition=1)]
    assert len(in_flight) == 0 and in_flight.room("a") == 2


def test_offsets_are_committed_only_below_the_first_record_not_done() -> None:
    commits = CommitTracker()
    for offset in (5, 6, 7):
        commits.consumed(position(offset))
    commits.consumed(position(40, partition=1))
    assert commits.to_commit() == [position(5), position(40, partition=1)]  # nothing done yet
    commits.done(position(6))
    assert commits.to_commit() == []  # 5 is still in the chain
    commits.done(position(5))
    commits.done(position(40, partition=1))
    assert commits.to_commit() == [position(7), position(41, partition=1)]
    commits.done(position(7))
    commits.done(position(99))  # never consumed here (a revoked partition's frame): ignored
    assert commits.to_commit() == [position(8)]
    commits.forget("frames", 0)
    commits.consumed(position(3))  # the partition back after a rebalance, from its committed offset
    assert commits.to_commit() == [position(3)]


def test_frames_in_never_lets_more_frames_through_than_the_detector_queues() -> None:
    high = next(f for f in setting_fields(FramesInSettings) if f.name == "max_in_flight").metadata["range"][1]
    assert high <= IMAGE_QOS.depth
