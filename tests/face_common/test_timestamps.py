from __future__ import annotations

import pytest
from face_common.timestamps import utc_ns

S = 10**9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1970-01-01T00:00:01", S),  # no zone: UTC
        ("1970-01-01T01:00:01+01:00", S),  # a zone is honoured
        ("1970-01-01T00:00:00.000001Z", 1000),  # microseconds, the finest ISO 8601 in Python
        ("2024-05-01", 1_714_521_600 * S),  # a date is its midnight
    ],
)
def test_iso_times_become_utc_nanoseconds(text: str, expected: int) -> None:
    assert utc_ns(text) == expected


def test_a_text_that_is_no_time_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="'noon' is not an ISO 8601 time"):
        utc_ns("noon")
