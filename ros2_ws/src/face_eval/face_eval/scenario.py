"""``face_scenario``: a store-day video composed from labelled identity photos, with ground truth.

People enter, stay a while and leave; some come back later (repeat customers). Each visit pastes
a margin crop of one of the person's photos (cut by the detection node's own core) into its own
slot of a 4 x 2 grid on a plain grey background, swaying a few pixels so that the pipeline sees
motion, not a still image. A return visit shows the person's next photo, so the identity stage
has to recognise a new view, as with a real returning customer.

Outputs in ``--out``: ``store_day.mp4`` (1280x720, 12 fps, OpenCV ``mp4v``), ``ground_truth.csv``
(``frame,person,x,y,w,h``: the pasted face box, one row per person and frame),
``visits.csv`` (``person,visit,first_frame,last_frame,photo``, frames inclusive) and
``scenario.json`` (the settings). The same seed and settings give byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from face_common.faces import Box
from face_detect_node.detectors import DETECTORS
from tqdm import tqdm

from face_eval.photo_faces import PhotoFaceFinder
from face_eval.records import read_csv_rows

log = logging.getLogger("face_scenario")

VIDEO_FILE = "store_day.mp4"
GROUND_TRUTH_FILE = "ground_truth.csv"
VISITS_FILE = "visits.csv"
SETTINGS_FILE = "scenario.json"
GRID_COLUMNS, GRID_ROWS = 4, 2
BACKGROUND_BGR = (128, 128, 128)
#: Largest sway of a pasted crop from its slot's centre, in pixels, and its period in frames.
SWAY_PX = 10
SWAY_PERIOD_FRAMES = 48
#: A person comes at most once more after the first visit.
MAX_VISITS = 2


@dataclass(frozen=True)
class ScenarioSettings:
    duration_s: float = 120.0
    people: int = 10
    repeat_rate: float = 0.3  # chance that a person comes back once
    dwell_min_s: float = 5.0
    dwell_max_s: float = 20.0
    return_gap_s: float = 10.0  # least time between leaving and coming back
    face_min_px: int = 80  # face box height range
    face_max_px: int = 150
    fps: float = 12.0
    width: int = 1280
    height: int = 720

    @property
    def frames(self) -> int:
        return round(self.duration_s * self.fps)

    def frames_of(self, seconds: float) -> int:
        return round(seconds * self.fps)

    def slot_cell(self, slot: int) -> Box:
        """Pixel cell of grid slot ``slot`` (row-major)."""
        w, h = self.width // GRID_COLUMNS, self.height // GRID_ROWS
        return Box((slot % GRID_COLUMNS) * w, (slot // GRID_COLUMNS) * h, w, h)


@dataclass(frozen=True)
class Visit:
    """One stay of one person: frames ``first_frame..last_frame`` inclusive, in grid ``slot``."""

    person: str
    visit: int  # 1 = first visit, 2 = the return
    first_frame: int
    last_frame: int
    slot: int
    face_px: int  # face box height asked for
    sway_phase: float

    def present(self, frame: int) -> bool:
        return self.first_frame <= frame <= self.last_frame


@dataclass(frozen=True)
class Cutout:
    """A visit's pasted picture: the scaled margin crop and the face box inside it."""

    image: np.ndarray
    face: Box


def plan_visits(people: Sequence[str], settings: ScenarioSettings, rng: np.random.Generator) -> list[Visit]:
    """Visits of ``people``: a dwell time and start each, a return with ``repeat_rate``, a free slot.

    A return happens only if both stays and the gap fit in the day. A slot is reused only a
    second after its last visitor left, so two people never share a spot. Raises ``ValueError``
    when more people are in the store at once than there are slots.
    """
    total = settings.frames
    lo = min(settings.frames_of(settings.dwell_min_s), total)
    hi = min(max(settings.frames_of(settings.dwell_max_s), lo), total)
    gap = settings.frames_of(settings.return_gap_s)
    stays: list[tuple[str, int, int, int]] = []  # person, visit, first, last
    for person in people:
        first_dwell, second_dwell = (int(d) for d in rng.integers(lo, hi + 1, size=2))
        returns = rng.random() < settings.repeat_rate and first_dwell + gap + second_dwell <= total
        if returns:
            start = int(rng.integers(0, total - first_dwell - gap - second_dwell + 1))
            back = int(rng.integers(start + first_dwell + gap, total - second_dwell + 1))
            stays += [
                (person, 1, start, start + first_dwell - 1),
                (person, 2, back, back + second_dwell - 1),
            ]
        else:
            start = int(rng.integers(0, total - first_dwell + 1))
            stays.append((person, 1, start, start + first_dwell - 1))
    free_from = [0] * (GRID_COLUMNS * GRID_ROWS)
    visits = []
    for person, number, first, last in sorted(stays, key=lambda s: (s[2], s[0], s[1])):
        free = [slot for slot, frame in enumerate(free_from) if frame <= first]
        if not free:
            raise ValueError(
                f"more than {len(free_from)} people in the store at frame {first}: "
                "lower --people or the dwell times"
            )
        slot = free[int(rng.integers(len(free)))]
        free_from[slot] = last + 1 + settings.frames_of(1.0)
        face_px = int(rng.integers(settings.face_min_px, settings.face_max_px + 1))
        visits.append(Visit(person, number, first, last, slot, face_px, float(rng.uniform(0, 2 * math.pi))))
    return visits


def crop_origin(
    visit: Visit, frame: int, cutout_w: int, cutout_h: int, settings: ScenarioSettings
) -> tuple[int, int]:
    """Top-left corner of the visit's cutout in ``frame``: its slot's centre plus a small sway,
    kept inside the slot."""
    cell = settings.slot_cell(visit.slot)
    angle = 2 * math.pi * (frame - visit.first_frame) / SWAY_PERIOD_FRAMES + visit.sway_phase
    room_x, room_y = (cell.w - cutout_w) // 2, (cell.h - cutout_h) // 2
    dx = round(min(SWAY_PX, room_x) * math.sin(angle))
    dy = round(min(SWAY_PX // 2, room_y) * math.sin(2 * angle))
    return cell.x + room_x + dx, cell.y + room_y + dy


def fit_cutout(crop: np.ndarray, face_in_crop: Box, face_px: int, cell: Box) -> Cutout:
    """The crop scaled so the face is ``face_px`` high, or less where the crop must fit the cell."""
    height, width = crop.shape[:2]
    scale = min(face_px / face_in_crop.h, cell.w / width, cell.h / height)
    size = (max(1, math.floor(width * scale)), max(1, math.floor(height * scale)))
    image = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return Cutout(image, face_in_crop.scaled(scale))


def face_box_at(visit: Visit, frame: int, cutout: Cutout, settings: ScenarioSettings) -> Box:
    """Where the visit's face is in ``frame`` (full-frame pixels)."""
    height, width = cutout.image.shape[:2]
    x, y = crop_origin(visit, frame, width, height, settings)
    return Box(x + cutout.face.x, y + cutout.face.y, cutout.face.w, cutout.face.h)


def ground_truth_rows(
    visits: Sequence[Visit], cutouts: Sequence[Cutout], settings: ScenarioSettings
) -> list[tuple[int, str, int, int, int, int]]:
    """``(frame, person, x, y, w, h)`` for every frame each visit covers, by frame then person."""
    rows = [
        (frame, visit.person, *face_box_at(visit, frame, cutout, settings).as_list())
        for visit, cutout in zip(visits, cutouts, strict=True)
        for frame in range(visit.first_frame, visit.last_frame + 1)
    ]
    return sorted(rows)


def render_frame(
    frame: int, visits: Sequence[Visit], cutouts: Sequence[Cutout], settings: ScenarioSettings
) -> np.ndarray:
    image = np.empty((settings.height, settings.width, 3), dtype=np.uint8)
    image[:] = BACKGROUND_BGR
    for visit, cutout in zip(visits, cutouts, strict=True):
        if visit.present(frame):
            height, width = cutout.image.shape[:2]
            x, y = crop_origin(visit, frame, width, height, settings)
            image[y : y + height, x : x + width] = cutout.image
    return image


def usable_people(
    photos: dict[str, list[str]], root: Path, finder: PhotoFaceFinder, wanted: int, rng: np.random.Generator
) -> dict[str, list[tuple[str, np.ndarray, Box]]]:
    """``wanted`` people drawn at random, each with the first photos (one per possible visit) the
    detector finds a face in.

    Photos without a detected face are skipped (their face box would be a guess); so are people
    left with none.
    """
    chosen: dict[str, list[tuple[str, np.ndarray, Box]]] = {}
    for person in rng.permutation(sorted(photos)):
        crops = []
        for path in photos[str(person)]:
            if len(crops) == MAX_VISITS:
                break
            image = cv2.imread(str(root / path), cv2.IMREAD_COLOR)
            found = None if image is None else finder.largest_face(image, whole_image_fallback=False)
            if found is None:
                log.warning("%s: no face found, not used", path)
                continue
            crops.append((path, found.face.crop, found.face.box_in_crop()))
        if crops:
            chosen[str(person)] = crops
        if len(chosen) == wanted:
            return chosen
    raise ValueError(f"only {len(chosen)} people with a detectable face, {wanted} asked for")


def write_scenario(
    out: Path,
    people: dict[str, list[tuple[str, np.ndarray, Box]]],
    settings: ScenarioSettings,
    rng: np.random.Generator,
    progress: bool = True,
) -> list[Visit]:
    """Plan the visits of ``people`` and write the video, ground truth, visits and settings."""
    visits = plan_visits(list(people), settings, rng)
    photos, cutouts = [], []
    for visit in visits:
        path, crop, face = people[visit.person][(visit.visit - 1) % len(people[visit.person])]
        photos.append(path)
        cutouts.append(fit_cutout(crop, face, visit.face_px, settings.slot_cell(visit.slot)))
    out.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(
        str(out / VIDEO_FILE),
        cv2.VideoWriter_fourcc(*"mp4v"),
        settings.fps,
        (settings.width, settings.height),
    )
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write {out / VIDEO_FILE}")
    try:
        for frame in tqdm(range(settings.frames), unit="frame", disable=not progress):
            writer.write(render_frame(frame, visits, cutouts, settings))
    finally:
        writer.release()
    with (out / GROUND_TRUTH_FILE).open("w", newline="") as f:
        table = csv.writer(f, lineterminator="\n")
        table.writerow(["frame", "person", "x", "y", "w", "h"])
        table.writerows(ground_truth_rows(visits, cutouts, settings))
    with (out / VISITS_FILE).open("w", newline="") as f:
        table = csv.writer(f, lineterminator="\n")
        table.writerow(["person", "visit", "first_frame", "last_frame", "photo"])
        for visit, photo in sorted(zip(visits, photos, strict=True), key=lambda v: (v[0].person, v[0].visit)):
            table.writerow([visit.person, visit.visit, visit.first_frame, visit.last_frame, photo])
    return visits


def build_parser() -> argparse.ArgumentParser:
    defaults = ScenarioSettings()
    parser = argparse.ArgumentParser(prog="face_scenario", description=__doc__.splitlines()[0])
    parser.add_argument("--identity-csv", type=Path, required=True, help="labels.csv: path,person[,source]")
    parser.add_argument(
        "--root", type=Path, help="folder the CSV's paths are relative to (default: the CSV's)"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duration", type=float, default=defaults.duration_s, help="seconds")
    parser.add_argument("--people", type=int, default=defaults.people, help="distinct people")
    parser.add_argument("--repeat-rate", type=float, default=defaults.repeat_rate, help="chance of a return")
    parser.add_argument(
        "--dwell",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=(defaults.dwell_min_s, defaults.dwell_max_s),
    )
    parser.add_argument("--return-gap", type=float, default=defaults.return_gap_s, help="seconds")
    parser.add_argument(
        "--face-size",
        type=int,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=(defaults.face_min_px, defaults.face_max_px),
    )
    parser.add_argument("--detector", choices=sorted(DETECTORS), default="hog", help="cuts the face crops")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    settings = ScenarioSettings(
        duration_s=args.duration,
        people=args.people,
        repeat_rate=args.repeat_rate,
        dwell_min_s=min(args.dwell),
        dwell_max_s=max(args.dwell),
        return_gap_s=args.return_gap,
        face_min_px=min(args.face_size),
        face_max_px=max(args.face_size),
    )
    if settings.frames < 1 or settings.people < 1 or not 0 <= settings.repeat_rate <= 1:
        print("face_scenario: need --duration > 0, --people >= 1, 0 <= --repeat-rate <= 1", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    try:
        photos: dict[str, list[str]] = {}
        for row in read_csv_rows(args.identity_csv, ("path", "person")):
            photos.setdefault(row["person"], []).append(row["path"])
        people = usable_people(
            photos,
            args.root or args.identity_csv.parent,
            PhotoFaceFinder(args.detector),
            settings.people,
            rng,
        )
        visits = write_scenario(args.out, people, settings, rng, progress=not args.no_progress)
    except (OSError, ValueError) as err:
        print(f"face_scenario: {err}", file=sys.stderr)
        return 2
    (args.out / SETTINGS_FILE).write_text(
        json.dumps({"seed": args.seed, **asdict(settings)}, indent=2) + "\n"
    )
    returns = sum(v.visit > 1 for v in visits)
    print(f"{settings.frames} frames, {len(people)} people, {len(visits)} visits ({returns} returns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
