"""One camera's screen without ROS: the person in front, their loyalty and the frame's local time
choose the rule; the debouncer decides when the screen changes; the change as the topic's JSON."""

from __future__ import annotations

import json
from datetime import time

import pytest
from face_common.faces import UNKNOWN_FACE_ID, Box, Face, FrameFaces, FrameRef
from signage_node.offers import parse_rules
from signage_node.screen import Shown, SignageScreen, local_time, time_zone
from signage_node.selection import Debouncer

S = 10**9
T0 = 1_700_000_000 * S  # 2023-11-14 22:13:20 UTC
RULES = parse_rules(
    {
        "rules": [
            {"name": "regulars", "offer": {"text": "Coffee", "id": "c1"}, "when": {"visits_min": 2}},
            {"name": "women", "offer": {"text": "Skincare"}, "when": {"gender": "female"}},
            {"name": "late", "offer": None, "when": {"time": "22:00-23:00"}},
            {"name": "default", "offer": {"text": "Weekly", "image": "weekly.png"}},
        ]
    }
)
EARLIER_VISITS = {7: 3, 8: 0}


def face(index: int, size: int, face_id: int = UNKNOWN_FACE_ID, gender: str = "") -> Face:
    return Face(index, Box(100 * index, 0, size, size), 1.0, face_id=face_id, age=30.0, gender=gender)


def frame(t_s: float, *faces: Face) -> FrameFaces:
    return FrameFaces(FrameRef("door", T0 + round(t_s * S)), list(faces))


def screen(zone: str = "UTC") -> SignageScreen:
    def earlier_visits(face_id: int, stamp_ns: int) -> int | None:
        return None if face_id == UNKNOWN_FACE_ID else EARLIER_VISITS.get(face_id, 0)

    return SignageScreen(RULES, Debouncer(5.0, 2.0), earlier_visits, time_zone(zone))


def test_the_person_in_front_gets_the_offer_and_it_stays_its_time() -> None:
    door = screen()
    changes = [
        door.update(f)
        for f in (
            frame(0, face(0, 40, 8, "male"), face(1, 80, 9, "female")),  # the larger: a woman
            frame(1, face(0, 90, 7, "male")),  # a regular steps in front: not yet
            frame(5, face(0, 90, 7, "male")),
            frame(6),
            frame(8),  # nobody for 2 s: cleared
            frame(9, face(0, 50)),  # no face ID yet, no gender: the time rule, offer null
        )
    ]
    assert changes == [
        Shown(T0, "door", 9, RULES[1]),
        None,
        Shown(T0 + 5 * S, "door", 7, RULES[0]),
        None,
        Shown(T0 + 8 * S, "door", None, None),
        Shown(T0 + 9 * S, "door", UNKNOWN_FACE_ID, RULES[2]),
    ]


def test_the_rules_read_the_time_of_day_in_the_configured_zone() -> None:
    assert local_time(T0, time_zone("UTC")) == time(22, 13, 20)
    assert local_time(T0, time_zone("Asia/Tokyo")) == time(7, 13, 20)
    # 07:13 in Tokyo: not late, so the default.
    assert screen("Asia/Tokyo").update(frame(0, face(0, 50))).rule.name == "default"
    with pytest.raises(ValueError, match="timezone='Mars/Olympus' is not an IANA time zone"):
        time_zone("Mars/Olympus")


def test_a_change_as_json() -> None:
    shown = Shown(T0, "door", 9, RULES[3])
    assert json.loads(shown.as_json()) == {
        "stamp_ns": T0,
        "camera_id": "door",
        "face_id": 9,
        "rule": "default",
        "offer": {"text": "Weekly", "image": "weekly.png", "id": None},
    }
    cleared = json.loads(Shown(T0, "door", None, None).as_json())
    assert cleared == {"stamp_ns": T0, "camera_id": "door", "face_id": None, "rule": None, "offer": None}
    assert json.loads(Shown(T0, "door", -1, RULES[2]).as_json())["offer"] is None
