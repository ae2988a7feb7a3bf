"""The person in front is the largest face; an offer stays its minimum time by message stamps."""

from __future__ import annotations

import pytest
from face_common.faces import Box, Face
from signage_node.selection import Debouncer, person_in_front

S = 1_000_000_000


def face(index: int, w: int, h: int) -> Face:
    return Face(index=index, box=Box(10 * index, 0, w, h), score=1.0)


def test_the_person_in_front_is_the_largest_box_the_first_of_equals() -> None:
    assert person_in_front([face(0, 10, 40), face(1, 30, 30), face(2, 20, 20)]).index == 1  # 900 > 400
    assert person_in_front([face(0, 20, 20), face(1, 40, 10), face(2, 20, 20)]).index == 0
    assert person_in_front([]) is None


def shown_after(debouncer: Debouncer[str], frames: list[tuple[float, str | None]]) -> list[str | None]:
    """What the screen shows after each frame."""
    result: list[str | None] = []
    for stamp_s, choice in frames:
        before = debouncer.shown
        assert debouncer.update(round(stamp_s * S), choice) == (debouncer.shown != before)
        result.append(debouncer.shown)
    return result


def test_an_offer_stays_its_minimum_time_by_stamps() -> None:
    frames = [
        (100.0, "A"),
        (101.0, "B"),
        (103.0, "A"),
        (104.9, "B"),
        (105.0, "B"),
        (106.0, "A"),
        (110.0, "A"),
    ]
    assert shown_after(Debouncer(5.0, 2.0), frames) == ["A", "A", "A", "A", "B", "B", "A"]


def test_nobody_in_front_for_clear_after_clears_and_the_next_choice_shows_at_once() -> None:
    frames = [(0.0, "A"), (1.0, None), (1.9, None), (2.0, None), (2.5, "B"), (3.0, "C")]
    assert shown_after(Debouncer(5.0, 2.0), frames) == ["A", "A", "A", None, "B", "B"]


def test_a_short_absence_neither_clears_nor_shortens_the_minimum() -> None:
    frames = [(0.0, "A"), (1.5, None), (1.9, "A"), (3.0, None), (3.5, "B"), (3.8, None), (5.0, "B")]
    assert shown_after(Debouncer(5.0, 2.0), frames) == ["A", "A", "A", "A", "A", "A", "B"]


def test_stamps_going_back_restart_the_clocks() -> None:
    debouncer = Debouncer[str](5.0, 2.0)
    assert shown_after(debouncer, [(1000.0, "A"), (10.0, "B"), (14.9, "B"), (15.0, "B")]) == [
        "A",
        "A",
        "A",
        "B",
    ]


def test_without_a_minimum_every_change_shows() -> None:
    frames = [(0.0, "A"), (0.1, "B"), (0.2, None), (0.3, "A")]
    assert shown_after(Debouncer(0.0, 0.0), frames) == ["A", "B", None, "A"]


def test_negative_times_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Debouncer(-1.0, 2.0)
