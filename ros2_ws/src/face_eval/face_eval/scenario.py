"""``face_scenario``: a store-day video composed from labelled identity photos, with ground truth.

People enter, stay a while and leave; some come back later (repeat customers). Each stay pastes
a margin crop of one of the person's photos (cut by the detection node's own core) into its own
slot of a 4 x 2 grid on a plain grey background, swaying a few pixels so that the pipeline sees
motion, not a still image. A return visit shows the person's next photo, so the identity stage
has to recognise a new view, as with a real returning customer.

With ``--cameras N`` (cam1..camN) every store visit is a journey: the entrance camera cam1, then
a random ordered subset of the others, with a walk between cameras (``--transit``) during which
the person is on no camera. Each camera has its own slot grid and shows the person's next photo,
so recognising a customer across cameras is as real as recognising a return.

Outputs in ``--out``: ``store_day.mp4`` (1280x720, 12 fps, OpenCV ``mp4v``; one
``store_day_<camera>.mp4`` per camera when there are several), ``ground_truth.csv``
(``frame,person,x,y,w,h``: the pasted face box, one row per person and frame), ``visits.csv``
(``person,visit,first_frame,last_frame,photo``, frames inclusive; one row per camera stay),
``scenario.json`` (the settings) and, with several cameras, ``journeys.csv`` (each store visit's
cameras and walking seconds, for reading); the CSVs then gain a ``camera`` column. The same seed
and settings give byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import logging
import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol, TypeVar

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
JOURNEYS_FILE = "journeys.csv"
ENTRANCE = "cam1"  # every journey starts here
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
    cameras: int = 1
    transit_min_s: float = 2.0  # walk from one camera to the next
    transit_max_s: float = 4.0

    @property
    def frames(self) -> int:
        return round(self.duration_s * self.fps)

    @property
    def camera_ids(self) -> tuple[str, ...]:
        return tuple(f"cam{i}" for i in range(1, self.cameras + 1))

    @property
    def longest_walk_s(self) -> float:
        return self.transit_max_s if self.cameras > 1 else 0.0

    def video_file(self, camera: str) -> str:
        """``store_day.mp4`` for a one-camera day (as before cameras existed), else one per camera."""
        return VIDEO_FILE if self.cameras == 1 else f"store_day_{camera}.mp4"

    def frames_of(self, seconds: float) -> int:
        return round(seconds * self.fps)

    def slot_cell(self, slot: int) -> Box:
        """Pixel cell of grid slot ``slot`` (row-major)."""
        w, h = self.width // GRID_COLUMNS, self.height // GRID_ROWS
        return Box((slot % GRID_COLUMNS) * w, (slot // GRID_COLUMNS) * h, w, h)


@dataclass(frozen=True)
class Visit:
    """One stay of one person on one camera: frames ``first_frame..last_frame`` inclusive, in grid
    ``slot``."""

    person: str
    visit: int  # store visit: 1 = first visit, 2 = the return
    first_frame: int
    last_frame: int
    slot: int
    face_px: int  # face box height asked for
    sway_phase: float
    camera: str = ENTRANCE

    def present(self, frame: int) -> bool:
        return self.first_frame <= frame <= self.last_frame


@dataclass(frozen=True)
class Cutout:
    """A visit's pasted picture: the scaled margin crop and the face box inside it."""

    image: np.ndarray
    face: Box


Stay = tuple[str, int, int]  # camera, first and last frame from the start of its store visit


class _CameraStay(Protocol):
    @property
    def person(self) -> str: ...
    @property
    def visit(self) -> int: ...
    @property
    def camera(self) -> str: ...
    @property
    def first_frame(self) -> int: ...


StayT = TypeVar("StayT", bound=_CameraStay)


def dwell_frames(settings: ScenarioSettings) -> tuple[int, int]:
    """Least and most frames of one stay (the dwell range, clipped to the day)."""
    total = settings.frames
    lo = min(settings.frames_of(settings.dwell_min_s), total)
    return lo, min(max(settings.frames_of(settings.dwell_max_s), lo), total)


def plan_journey(entrance_frames: int, settings: ScenarioSettings, rng: np.random.Generator) -> list[Stay]:
    """One store visit's camera stays: ``entrance_frames`` on cam1, then a random ordered subset of
    the other cameras, each after a walk of at least a frame on no camera; cameras that would end
    after the day are left out. A one-camera day draws nothing here, so its plans stay those from
    before cameras existed."""
    lo, hi = dwell_frames(settings)
    walk_lo = max(1, settings.frames_of(settings.transit_min_s))
    walk_hi = max(walk_lo, settings.frames_of(settings.transit_max_s))
    others = settings.camera_ids[1:]
    stays = [(ENTRANCE, 0, entrance_frames - 1)]
    if not others:
        return stays
    count = int(rng.integers(len(others) + 1))
    for index in rng.permutation(len(others))[:count]:
        first = stays[-1][2] + int(rng.integers(walk_lo, walk_hi + 1))
        last = first + int(rng.integers(lo, hi + 1)) - 1
        if last < settings.frames:
            stays.append((others[index], first, last))
    return stays


def plan_visits(people: Sequence[str], settings: ScenarioSettings, rng: np.random.Generator) -> list[Visit]:
    """Camera stays of ``people``: a journey and start each, a return with ``repeat_rate``, a free
    slot per stay.

    A return happens only if both journeys and the gap fit in the day. A camera's slot is reused
    only a second after its last visitor left, so two people never share a spot. Raises
    ``ValueError`` when more people are in front of one camera at once than there are slots.
    """
    total = settings.frames
    lo, hi = dwell_frames(settings)
    gap = settings.frames_of(settings.return_gap_s)
    stays: list[tuple[int, str, int, str, int]] = []  # first, person, visit, camera, last
    for person in people:
        first_dwell, second_dwell = (int(d) for d in rng.integers(lo, hi + 1, size=2))
        routes = [plan_journey(first_dwell, settings, rng), plan_journey(second_dwell, settings, rng)]
        first_len, second_len = (route[-1][2] + 1 for route in routes)
        returns = rng.random() < settings.repeat_rate and first_len + gap + second_len <= total
        if returns:
            start = int(rng.integers(0, total - first_len - gap - second_len + 1))
            back = int(rng.integers(start + first_len + gap, total - second_len + 1))
            starts = [start, back]
        else:
            starts = [int(rng.integers(0, total - first_len + 1))]
        for number, (begin, route) in enumerate(zip(starts, routes, strict=False), start=1):
            stays += [(begin + first, person, number, camera, begin + last) for camera, first, last in route]
    free_from = {camera: [0] * (GRID_COLUMNS * GRID_ROWS) for camera in settings.camera_ids}
    visits = []
    for first, person, number, camera, last in sorted(stays):
        free = [slot for slot, frame in enumerate(free_from[camera]) if frame <= first]
        if not free:
            raise ValueError(
                f"more than {len(free_from[camera])} people in the store at frame {first} on {camera}: "
                "lower --people or the dwell times"
            )
        slot = free[int(rng.integers(len(free)))]
        free_from[camera][slot] = last + 1 + settings.frames_of(1.0)
        face_px = int(rng.integers(settings.face_min_px, settings.face_max_px + 1))
        phase = float(rng.uniform(0, 2 * math.pi))
        visits.append(Visit(person, number, first, last, slot, face_px, phase, camera))
    return visits


def journey_order(stay: _CameraStay) -> tuple[str, int, int]:
    """Person, store visit, then time: the order of ``visits.csv`` and of a journey's stays."""
    return stay.person, stay.visit, stay.first_frame


def journeys(stays: Iterable[StayT]) -> dict[tuple[str, int], list[StayT]]:
    """Each store visit's camera stays in time order, keyed by person and visit number: the one
    place a journey is made from the stays, for ``journeys.csv`` and for scoring alike."""
    grouped: dict[tuple[str, int], list[StayT]] = defaultdict(list)
    for stay in sorted(stays, key=journey_order):
        grouped[stay.person, stay.visit].append(stay)
    return dict(grouped)


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
    photos: dict[str, list[str]],
    root: Path,
    finder: PhotoFaceFinder,
    wanted: int,
    rng: np.random.Generator,
    per_person: int = MAX_VISITS,
) -> dict[str, list[tuple[str, np.ndarray, Box]]]:
    """``wanted`` people drawn at random, each with the first ``per_person`` photos (one per
    possible stay) the detector finds a face in.

    Photos without a detected face are skipped (their face box would be a guess); so are people
    left with none.
    """
    chosen: dict[str, list[tuple[str, np.ndarray, Box]]] = {}
    for person in rng.permutation(sorted(photos)):
        crops = []
        for path in photos[str(person)]:
            if len(crops) == per_person:
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


def photo_numbers(visits: Iterable[Visit]) -> dict[Visit, int]:
    """Each stay's place among its person's stays of the day: stay ``n`` shows photo ``n`` (cycling),
    so a return and every further camera see a new view where the person has one."""
    by_person = sorted(visits, key=lambda v: (v.person, v.first_frame, v.camera))
    return {
        visit: n
        for _, stays in itertools.groupby(by_person, key=lambda v: v.person)
        for n, visit in enumerate(stays)
    }


def write_video(
    path: Path, visits: Sequence[Visit], cutouts: Sequence[Cutout], settings: ScenarioSettings, progress: bool
) -> None:
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*"mp4v"), settings.fps, (settings.width, settings.height)
    )
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write {path}")
    try:
        for frame in tqdm(range(settings.frames), unit="frame", desc=path.name, disable=not progress):
            writer.write(render_frame(frame, visits, cutouts, settings))
    finally:
        writer.release()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", newline="") as f:
        table = csv.writer(f, lineterminator="\n")
        table.writerow(header)
        table.writerows(rows)


def journey_rows(visits: Iterable[Visit], fps: float) -> list[list[object]]:
    """``journeys.csv``: each store visit's frames, cameras (``cam1>cam3``) and walking seconds
    between them (``;``-separated), for reading; scoring derives journeys from ``visits.csv``."""
    rows: list[list[object]] = []
    for (person, number), stays in journeys(visits).items():
        walks = (
            f"{(after.first_frame - before.last_frame) / fps:.2f}"
            for before, after in itertools.pairwise(stays)
        )
        cameras = ">".join(stay.camera for stay in stays)
        rows.append([person, number, stays[0].first_frame, stays[-1].last_frame, cameras, ";".join(walks)])
    return rows


def write_scenario(
    out: Path,
    people: dict[str, list[tuple[str, np.ndarray, Box]]],
    settings: ScenarioSettings,
    rng: np.random.Generator,
    progress: bool = True,
) -> list[Visit]:
    """Plan the stays of ``people`` and write the videos, ground truth, visits and journeys."""
    visits = plan_visits(list(people), settings, rng)
    numbers = photo_numbers(visits)
    photos, cutouts = [], []
    for visit in visits:
        path, crop, face = people[visit.person][numbers[visit] % len(people[visit.person])]
        photos.append(path)
        cutouts.append(fit_cutout(crop, face, visit.face_px, settings.slot_cell(visit.slot)))
    out.mkdir(parents=True, exist_ok=True)
    several = settings.cameras > 1
    truth_rows = []
    for camera in settings.camera_ids:
        shown = [(v, c) for v, c in zip(visits, cutouts, strict=True) if v.camera == camera]
        on_camera, on_cutouts = [v for v, _ in shown], [c for _, c in shown]
        write_video(out / settings.video_file(camera), on_camera, on_cutouts, settings, progress)
        where = [camera] if several else []
        truth_rows += [[*where, *row] for row in ground_truth_rows(on_camera, on_cutouts, settings)]
    where = ["camera"] if several else []
    write_csv(out / GROUND_TRUTH_FILE, [*where, "frame", "person", "x", "y", "w", "h"], truth_rows)
    visit_rows = [
        [v.person, v.visit, *([v.camera] if several else []), v.first_frame, v.last_frame, photo]
        for v, photo in sorted(zip(visits, photos, strict=True), key=lambda vp: journey_order(vp[0]))
    ]
    write_csv(
        out / VISITS_FILE, ["person", "visit", *where, "first_frame", "last_frame", "photo"], visit_rows
    )
    if several:
        header = ["person", "visit", "first_frame", "last_frame", "cameras", "transit_s"]
        write_csv(out / JOURNEYS_FILE, header, journey_rows(visits, settings.fps))
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
    parser.add_argument(
        "--cameras", type=int, default=defaults.cameras, help="cameras cam1..camN; cam1 is the entrance"
    )
    parser.add_argument(
        "--transit",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=(defaults.transit_min_s, defaults.transit_max_s),
        help="seconds walking from one camera to the next",
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
        cameras=args.cameras,
        transit_min_s=min(args.transit),
        transit_max_s=max(args.transit),
    )
    if settings.frames < 1 or settings.people < 1 or not 0 <= settings.repeat_rate <= 1:
        print("face_scenario: need --duration > 0, --people >= 1, 0 <= --repeat-rate <= 1", file=sys.stderr)
        return 2
    if settings.cameras < 1 or settings.transit_min_s < 0:
        print("face_scenario: need --cameras >= 1 and --transit >= 0", file=sys.stderr)
        return 2
    if settings.return_gap_s <= settings.longest_walk_s:
        # scoring tells a walk from a return by a visit gap between the two
        print("face_scenario: --return-gap must be longer than the longest --transit", file=sys.stderr)
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
            per_person=MAX_VISITS * settings.cameras,
        )
        visits = write_scenario(args.out, people, settings, rng, progress=not args.no_progress)
    except (OSError, ValueError) as err:
        print(f"face_scenario: {err}", file=sys.stderr)
        return 2
    (args.out / SETTINGS_FILE).write_text(
        json.dumps({"seed": args.seed, **asdict(settings)}, indent=2) + "\n"
    )
    returns = len({(v.person, v.visit) for v in visits if v.visit > 1})
    store_visits = len({(v.person, v.visit) for v in visits})
    stays = f", {len(visits)} camera stays" if settings.cameras > 1 else ""
    print(f"{settings.frames} frames, {len(people)} people, {store_visits} visits ({returns} returns){stays}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
