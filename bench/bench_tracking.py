"""Tracking quality when the detector runs on every k-th frame: FaceTracker's carried boxes.

Synthetic scenes at the store camera's 12 fps and 1280x720 (no models: tracking is pure logic,
and synthetic truth says exactly which face is which):

- ``till``: three customers nearly still, two of them side by side (boxes 4 px apart), each
  hidden once for ~0.5 s;
- ``crossing``: two faces walking towards each other at the same height, crossing mid-frame,
  the one behind hidden while they overlap;
- ``walkers``: five faces entering at the left or right edge, walking across and leaving, two of
  them side by side.

Detections are the true boxes with 2 px jitter, 8 % missed, and a 5 % chance per detection
frame of one false face. Each tracker sees ``update`` on detection frames and ``carry`` between
them; "bytetrack+hold" is FaceTracker's ids with each face's last box held instead of its
Kalman prediction. (The earlier greedy-overlap IouTracker, measured against it here before it
was removed, swapped or split ids from detection every 2nd frame on: docs/benchmarks.md.)

Per scene (medians over the scenes are printed): ``idsw``, the times a true face's track id
changes; ``ids/face``, distinct ids per true face (fragmentation); ``merged``, ids that covered
more than one true face; ``cover``, true boxes with an output box at IoU >= 0.5 (all frames).
``carried`` is the median, ``carried p10`` the 10th percentile, over all scenes, of the IoU
between the truth and the carried box of the face's track on frames without detection (faces
that the last detection found; 0 when the track's box is missing).

Run: ``python bench/bench_tracking.py [--scenes 20] [--every 1,2,3,4] [--json]``.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from bench_common import add_output_arguments, emit, format_records, percentile
from face_common.faces import Box
from face_common.geometry import iou, match_greedy
from face_detect_node.tracking import FaceTracker

FPS = 12.0
WIDTH, HEIGHT = 1280, 720
FRAMES = 120
MISS_P = 0.08
FALSE_P = 0.05
JITTER = 2
#: Output-to-truth IoU that says which true face an output box shows.
TRUTH_IOU = 0.3


@dataclass
class Walker:
    """One true face: a box moving at constant speed, visible in ``[start, end)`` unless hidden."""

    start: int
    end: int
    x: float
    y: float
    vx: float
    vy: float
    size: int
    hidden: range = range(0)

    def box(self, frame: int) -> Box | None:
        if not self.start <= frame < self.end or frame in self.hidden:
            return None
        t = frame - self.start
        x, y = round(self.x + self.vx * t), round(self.y + self.vy * t)
        inside = max(0, min(x + self.size, WIDTH) - max(x, 0)) * self.size
        return Box(x, y, self.size, self.size) if inside >= 0.6 * self.size * self.size else None


def till(rng: random.Random) -> list[Walker]:
    size = rng.randint(80, 110)
    walkers = [
        Walker(0, FRAMES, 300, 250, rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), size),
        Walker(0, FRAMES, 300 + size + 4, 255, rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), size),
        Walker(0, FRAMES, 900, 300, rng.uniform(-1, 1), rng.uniform(-0.5, 0.5), rng.randint(70, 120)),
    ]
    for walker in walkers:
        hide = rng.randint(10, FRAMES - 20)
        walker.hidden = range(hide, hide + 6)
    return walkers


def crossing(rng: random.Random) -> list[Walker]:
    """The face behind is hidden while the two overlap by more than a third."""
    speed, y = rng.uniform(6, 14), rng.randint(200, 400)
    front = Walker(0, FRAMES, -40, y, speed, 0, rng.randint(70, 100))
    back = Walker(0, FRAMES, WIDTH - 60, y + rng.randint(-10, 10), -speed * rng.uniform(0.8, 1.2), 0, 85)
    behind = [f for f in range(FRAMES) if (a := front.box(f)) and (b := back.box(f)) and iou(a, b) > 1 / 3]
    if behind:
        back.hidden = range(behind[0], behind[-1] + 1)
    return [front, back]


def walkers(rng: random.Random) -> list[Walker]:
    faces = []
    for _ in range(4):
        start, speed, size = rng.randint(0, 60), rng.uniform(4, 15), rng.randint(60, 110)
        left = rng.random() < 0.5
        x = -size * 0.3 if left else WIDTH - size * 0.7
        faces.append(
            Walker(
                start, FRAMES, x, rng.randint(100, 500), speed if left else -speed, rng.uniform(-1, 1), size
            )
        )
    pal = faces[0]
    faces.append(Walker(pal.start, FRAMES, pal.x, pal.y + pal.size + 4, pal.vx, pal.vy, pal.size))
    return faces


SCENES: dict[str, Callable[[random.Random], list[Walker]]] = {
    "till": till,
    "crossing": crossing,
    "walkers": walkers,
}


def detections(rng: random.Random, truth: Sequence[Box]) -> list[tuple[Box, float]]:
    """The true boxes, jittered, some missed, sometimes one false face."""
    found = [
        (
            Box(
                b.x + rng.randint(-JITTER, JITTER),
                b.y + rng.randint(-JITTER, JITTER),
                b.w + rng.randint(-JITTER, JITTER),
                b.h + rng.randint(-JITTER, JITTER),
            ),
            rng.uniform(0.6, 1.0),
        )
        for b in truth
        if rng.random() >= MISS_P
    ]
    if rng.random() < FALSE_P:
        found.append((Box(rng.randint(0, WIDTH - 80), rng.randint(0, HEIGHT - 80), 70, 70), 0.6))
    rng.shuffle(found)
    return found


Tracked = list[tuple[int, Box]]


class ByteTrackRun:
    """FaceTracker, carrying boxes with its Kalman prediction or (``hold``) the last box."""

    def __init__(self, hold: bool) -> None:
        self._tracker = FaceTracker(FPS)
        self._hold = hold
        self._last: Tracked = []

    def update(self, found: list[tuple[Box, float]]) -> Tracked:
        self._last = [(f.track_id, f.box) for f in self._tracker.update(found)]
        return self._last

    def carry(self) -> Tracked:
        carried = [(f.track_id, f.box) for f in self._tracker.carry()]
        return self._last if self._hold else carried


RUNS: dict[str, Callable[[int], ByteTrackRun]] = {
    "bytetrack+hold": lambda every: ByteTrackRun(hold=True),
    "bytetrack": lambda every: ByteTrackRun(hold=False),
}


def run_scene(
    faces: list[Walker], make: Callable[[int], ByteTrackRun], every: int, seed: int
) -> dict:
    rng = random.Random(seed)
    tracker = make(every)
    ids_of: dict[int, list[int]] = {i: [] for i in range(len(faces))}
    faces_of: dict[int, set[int]] = {}
    last_id: dict[int, int] = {}
    covered = total = 0
    carried: list[float] = []
    for frame in range(FRAMES):
        truth = {i: box for i, face in enumerate(faces) if (box := face.box(frame)) is not None}
        detect = frame % every == 0
        out = tracker.update(detections(rng, list(truth.values()))) if detect else tracker.carry()
        people = list(truth)
        pairs = match_greedy([b for _, b in out], [truth[p] for p in people], TRUTH_IOU)
        for o, t in pairs:
            person, track_id = people[t], out[o][0]
            ids_of[person].append(track_id)
            faces_of.setdefault(track_id, set()).add(person)
            if detect:
                last_id[person] = track_id
        total += len(truth)
        covered += len(match_greedy([b for _, b in out], list(truth.values()), 0.5))
        if not detect:
            boxes = dict(out)
            carried += [
                iou(boxes[last_id[p]], box) if last_id[p] in boxes else 0.0
                for p, box in truth.items()
                if p in last_id
            ]
        else:
            for person in set(last_id) - {people[t] for _, t in pairs}:
                del last_id[person]
    seen = [ids for ids in ids_of.values() if ids]
    return {
        "idsw": sum(sum(a != b for a, b in pairwise(ids)) for ids in seen),
        "ids_per_face": statistics.mean(len(set(ids)) for ids in seen),
        "merged": sum(len(people) > 1 for people in faces_of.values()),
        "cover": covered / total,
        "carried": carried,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=20, help="random scenes per scene kind")
    parser.add_argument("--every", default="1,2,3,4", help="detect_every values, comma-separated")
    add_output_arguments(parser)
    args = parser.parse_args(argv)
    records = []
    for scene, make_faces in SCENES.items():
        for every in (int(k) for k in args.every.split(",")):
            for name, make in RUNS.items():
                runs = [
                    run_scene(make_faces(random.Random(seed)), make, every, seed)
                    for seed in range(args.scenes)
                ]
                carried = [v for r in runs for v in r["carried"]]
                records.append(
                    {
                        "scene": scene,
                        "every": every,
                        "tracker": name,
                        "idsw": statistics.median(r["idsw"] for r in runs),
                        "ids_per_face": statistics.median(r["ids_per_face"] for r in runs),
                        "merged": statistics.median(r["merged"] for r in runs),
                        "cover": statistics.median(r["cover"] for r in runs),
                        "carried": statistics.median(carried) if carried else math.nan,
                        "carried_p10": percentile(carried, 0.1),
                    }
                )
    columns = {
        "scene": "scene",
        "k": "every",
        "tracker": "tracker",
        "idsw": "idsw",
        "ids/face": "ids_per_face",
        "merged": "merged",
        "cover": "cover",
        "carried": "carried",
        "carried p10": "carried_p10",
    }
    report = {"scenes": args.scenes, "fps": FPS, "frames": FRAMES, "records": records}
    emit(args, report, lambda: format_records(columns, records, float_digits=2))


if __name__ == "__main__":
    main()
