import numpy as np
import pytest
from face_common.faces import FrameRef
from kafka_bridge.frame_intake import FrameIntake
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
