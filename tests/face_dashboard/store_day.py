"""The store day the dashboard tests read: constants and the events, written by ``conftest``'s fixtures.

Two cameras, customers who pass both (a journey), one who comes twice (a repeat customer), two who
came the day before (returning), one whose age and gender were never estimated, and faces not
identified yet (face ID -1).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from face_common.faces import UNKNOWN_FACE_ID, Box, FaceEvent

S = 10**9
DAY = 1_714_694_400 * S  # 2024-05-03 00:00 UTC
HOUR = 3600 * S
START, END = "2024-05-02T00:00", "2024-05-04T00:00"  # the day before and the store day
STAFF_TOKEN = "staff-token-0123456789"
ADMIN_TOKEN = "admin-token-0123456789"
OFFERS = """
rules:
  - name: minors
    offer: null
    when: {age_max: 17}
  - name: skincare
    offer: {text: "New skincare range: try it at the counter", image: offers/skincare.png, id: skincare}
    when: {gender: female, age_min: 35}
  - name: default
    offer: {text: "Have a look at this week's offers inside", id: weekly}
"""

# (face ID, camera, start, dwell s, age, gender, box x): one visit, a sighting every 5 s
VISITS = [
    (1, "cam1", DAY - 14 * HOUR, 120, 34.0, "female", 200),  # the day before: returns today
    (2, "cam1", DAY - 13 * HOUR, 60, 52.0, "male", 800),
    (1, "cam1", DAY + 9 * HOUR, 90, 35.0, "female", 220),
    (1, "cam2", DAY + 9 * HOUR + 150 * S, 200, 36.0, "female", 600),  # same trip: cam1 > cam2
    (2, "cam2", DAY + 10 * HOUR, 45, 51.0, "male", 640),
    (3, "cam1", DAY + 10 * HOUR + 600 * S, 30, 22.0, "male", 300),
    (3, "cam2", DAY + 10 * HOUR + 700 * S, 300, 23.0, "male", 500),
    (4, "cam1", DAY + 11 * HOUR, 75, 67.0, "female", 900),
    (5, "cam1", DAY + 11 * HOUR + 30 * S, 15, 16.0, "male", 100),
    (6, "cam2", DAY + 12 * HOUR, 400, 41.0, "female", 700),
    (6, "cam2", DAY + 15 * HOUR, 180, 42.0, "female", 720),  # a second visit the same day
    (7, "cam1", DAY + 14 * HOUR, 50, math.nan, "", 400),  # never estimated
    (8, "cam2", DAY + 16 * HOUR, 240, 29.0, "male", 560),
    (8, "cam1", DAY + 16 * HOUR + 300 * S, 20, 29.0, "male", 260),  # cam2 > cam1
    (9, "cam1", DAY + 17 * HOUR, 100, 45.0, "male", 640),
]
UNIDENTIFIED = [("cam1", DAY + 9 * HOUR + 2 * S), ("cam2", DAY + 12 * HOUR + 7 * S)]


def offer_picture() -> np.ndarray:
    """The skincare offer's picture (what a shop would put next to its offers file)."""
    picture = np.zeros((240, 480, 3), np.uint8)
    picture[:] = np.linspace(180, 250, 480, dtype=np.uint8)[None, :, None]
    picture[:, :, 0] = 240
    cv2.circle(picture, (110, 120), 70, (150, 120, 230), -1)
    cv2.putText(picture, "SKINCARE", (200, 140), cv2.FONT_HERSHEY_DUPLEX, 1.6, (90, 40, 120), 3, cv2.LINE_AA)
    return picture


def store_day_events() -> list[FaceEvent]:
    events = []
    for face_id, camera, start, dwell_s, age, gender, x in VISITS:
        for i, t in enumerate(range(0, dwell_s + 1, 5)):
            box = Box(x + (i % 3) * 10, 250, 90, 110)
            events.append(FaceEvent(camera, start + t * S, face_id, face_id, age, gender, box, 0.3, i == 0))
    for camera, stamp in UNIDENTIFIED:
        events.append(
            FaceEvent(camera, stamp, 99, UNKNOWN_FACE_ID, math.nan, "", Box(50, 50, 60, 70), math.nan, False)
        )
    return events
