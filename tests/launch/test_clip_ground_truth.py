"""The embedded-default graph on the bundled clip against its hand-checked labels.

``samples/video/short_hamilton_clip_faces.csv`` boxes every visible face in 45 frames (12 people;
SOURCE.md says how they were labelled). The whole clip goes through ``launch/local.launch.yaml``
at the camera's 12 frames/s with the graph's defaults; the events' boxes are matched to the
labels (IoU >= 0.5) in the labelled frames, and the customers the events name are counted.
"""

from __future__ import annotations

import csv
import sqlite3
from collections import defaultdict
from pathlib import Path

from face_common.faces import Box
from face_common.geometry import match_greedy
from local_graph import REPO, run_local_graph
from ros_processes import exit_counters, launched_node_log

VIDEO = REPO / "samples" / "video"
CLIP = VIDEO / "short_hamilton_clip.mp4"
FPS = 12.0
SCALE = 2  # the 640x360 clip is letterboxed to 1280x720 by exactly 2x
MIN_FACE_PX = 40


def read_rows(name: str) -> list[dict[str, str]]:
    with (VIDEO / name).open(newline="") as f:
        return list(csv.DictReader(f))


def labelled_faces() -> dict[int, list[tuple[str, Box]]]:
    faces: dict[int, list[tuple[str, Box]]] = {
        int(r["frame"]): [] for r in read_rows("short_hamilton_clip_frames.csv")
    }
    for r in read_rows("short_hamilton_clip_faces.csv"):
        box = Box(*(SCALE * int(r[k]) for k in ("x", "y", "w", "h")))
        if box.h >= MIN_FACE_PX:
            faces[int(r["frame"])].append((r["person"], box))
    return faces


def events_by_frame(database: Path, first_frame: int) -> dict[int, list[tuple[int, Box]]]:
    """Events per clip frame: the camera paces frames 1/12 s apart, so frame = first_frame +
    round((stamp - first stamp) * 12), ``first_frame`` being the frame of the earliest event."""
    con = sqlite3.connect(database)
    rows = con.execute("SELECT stamp_ns, face_id, box_x, box_y, box_w, box_h FROM face_events").fetchall()
    con.close()
    first = min(row[0] for row in rows)
    frames: dict[int, list[tuple[int, Box]]] = defaultdict(list)
    for stamp, face_id, *box in rows:
        frames[first_frame + round((stamp - first) * FPS / 1e9)].append((face_id, Box(*box)))
    return frames


def test_default_graph_finds_the_labelled_faces_and_counts_the_people(
    tmp_path: Path, ros_domain_id: int
) -> None:
    database = tmp_path / "events.sqlite"
    arguments = {
        "source": CLIP,
        "fps": FPS,
        "gallery": tmp_path / "gallery.sqlite",
        "database": database,
        "exit_when_idle_s": 8.0,
        "log_frames": "false",
    }
    log = run_local_graph(arguments, ros_domain_id)
    assert exit_counters(launched_node_log(log, "camera"))["published"] == 275, log[-3000:]

    truth = labelled_faces()
    # Frame 0 shows two faces, but a best-effort first frame could be lost while DDS settles: take
    # the earliest event's frame (0-5) under which the events' boxes line up with the labels.
    found = max(
        (events_by_frame(database, first) for first in range(6)),
        key=lambda frames: sum(
            len(match_greedy([b for _, b in frames.get(f, [])], [b for _, b in faces], iou_threshold=0.5))
            for f, faces in truth.items()
        ),
    )
    clear = {r["person"] for r in read_rows("short_hamilton_clip_people.csv") if r["clearly_visible"] == "1"}
    hits = total = clear_hits = clear_total = 0
    for frame, faces in truth.items():
        predicted = [box for _, box in found.get(frame, [])]
        pairs = match_greedy(predicted, [box for _, box in faces], iou_threshold=0.5)
        matched = {faces[t][0] for _, t in pairs} if pairs else set()
        hits, total = hits + len(pairs), total + len(faces)
        clear_total += sum(person in clear for person, _ in faces)
        clear_hits += sum(person in clear for person in matched)
    customers = {face_id for faces in found.values() for face_id, _ in faces if face_id >= 0}
    people = {person for faces in truth.values() for person, _ in faces}
    print(
        f"\nclip: {hits}/{total} labelled faces >= {MIN_FACE_PX} px found ({hits / total:.3f}); clearly "
        f"visible people's faces {clear_hits}/{clear_total}; customers {len(customers)} "
        f"(labelled people {len(people)}, clearly visible {len(clear)})"
    )
    assert clear_hits / clear_total >= 0.95
    assert hits / total >= 0.9  # what is missed: defocused and half-hidden faces
    assert abs(len(customers) - len(clear)) <= 1
