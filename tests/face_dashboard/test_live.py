"""The store watcher: a new row bumps the live version; signage screens get their camera's new
frames through signage_node's SignageScreen (the offer for a given event sequence), skip rows
already seen, and clear once the camera has written nothing for clear_after_s."""

from __future__ import annotations

import json
import math
import time

from face_common.faces import Box, FaceEvent
from face_dashboard.live import StoreWatcher, frames_of
from face_sink.schema import open_sqlite_store
from signage_node.offers import load_rules

S = 10**9


def event(
    stamp_ns: int,
    face_id: int,
    age: float,
    gender: str,
    size: int = 100,
    index: int = 0,
    camera: str = "cam1",
) -> FaceEvent:
    return FaceEvent(camera, stamp_ns, index, face_id, age, gender, Box(10, 10, size, size), 0.3, False)


def test_rows_regroup_into_frames_in_stamp_order():
    rows = [
        event(2, 1, 30.0, "male", index=0),
        event(1, 2, 40.0, "female"),
        event(2, 3, 50.0, "male", index=1),
    ]
    frames = frames_of(rows)
    assert [(f.frame.stamp_ns, [face.face_id for face in f.faces]) for f in frames] == [(1, [2]), (2, [1, 3])]
    assert math.isnan(frames[0].faces[0].score) and frames[0].faces[0].age == 40.0


def test_new_rows_bump_the_version_and_choose_the_offer(settings, tmp_path):
    settings = settings.model_copy(update={"clear_after_s": 5.0})
    store = open_sqlite_store(settings.database)
    watcher = StoreWatcher(settings, lambda: store, load_rules(settings.offers_file))
    screen = watcher.signage("cam1")
    watcher.poll(store, 0.0)
    first = watcher.version
    watcher.poll(store, 0.5)
    assert watcher.version == first and screen.shown is None  # nothing new; the day's old rows are not shown
    now = time.time_ns()
    store.write_events(
        [
            event(now, 40, 41.0, "female", 120),
            event(now, 41, 30.0, "male", 60, index=1),
            event(now, 42, 44.0, "female", camera="cam2"),
        ]
    )
    watcher.poll(store, 1.0)
    assert watcher.version == first + 1
    assert json.loads(screen.shown.as_json())["offer"]["id"] == "skincare"  # the largest face: a woman of 41
    store.write_events([event(now + S, 43, 15.0, "male", 200)])  # a minor steps in front: nothing
    watcher.poll(store, 2.0)
    assert screen.shown.rule.name == "minors" and screen.shown.rule.offer is None
    store.write_events([event(now + 2 * S, 44, 60.0, "male", 200)])
    watcher.poll(store, 3.0)
    watcher.poll(store, 4.0)  # the same rows again: no change
    assert (screen.shown.rule.name, screen.version) == ("default", 3)
    watcher.poll(store, 8.5)  # 5.5 s without a row from cam1: nobody in front
    assert screen.shown.rule is None and screen.version == 4
    store.close()
