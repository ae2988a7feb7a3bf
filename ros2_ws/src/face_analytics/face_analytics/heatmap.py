"""``face_heatmap``: where faces were, weighted by time spent, in one camera's picture or on a floor plan.

Each event's box centre counts for the time until that camera's next frame stamp in the store
(capped, so the gap to the next customer does not count as dwell), accumulated on a coarse grid,
Gaussian-blurred, normalised and drawn as a colour map over a reference photo of the empty scene.
Frames are not stored by default (privacy), so the operator supplies that photo; without one the
map is drawn on a neutral grey canvas of the camera's frame size. The pure steps (weights, grid,
mass within a region) are separate functions so tests can check where the mass lies.

With ``--floor-plan`` (``floor_plan.py``) every configured camera's box centres are mapped through
that camera's homography onto one store plan and drawn there, with a key, for people who know the
store but not the cameras; events the plan cannot place are counted in the command's output.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from face_common.faces import Box, FaceEvent
from face_common.timestamps import utc_ns
from face_sink.mysql_store import (
    DatabaseUrlError,
    add_database_option,
    describe_database,
    open_existing_store,
)
from face_sink.schema import EventStore

from face_analytics.floor_plan import FloorPlan, load_floor_plan, to_plan

DEFAULT_MAX_WEIGHT_S = 1.0  # a frame counts for at most this long: gaps between customers are not dwell
DEFAULT_CELL_PX = 8  # grid cell size: 1/8 of the frame's resolution
DEFAULT_SIGMA_PX = 20.0  # blur: about a small face's half-width at 720p
GREY = 128
HEAT_OPACITY = 0.65  # opacity of the hottest colour; cold cells leave the background visible
KEY_MIN_WIDTH_PX = 640  # the key under a floor-plan map needs this width


def time_weights(events: Sequence[FaceEvent], max_weight_s: float = DEFAULT_MAX_WEIGHT_S) -> np.ndarray:
    """Seconds each event stands for: until its camera's next frame stamp among ``events``, capped
    at ``max_weight_s``.

    Frames without faces are not stored, so the next stamp may be long after; the cap keeps such
    gaps from counting as dwell. A camera's last frame has no next stamp and counts for that
    camera's median frame interval (capped; the cap itself when the camera has one frame).
    Faces in one frame each get the frame's full weight: each person spent that time there.
    """
    by_camera: dict[str, list[int]] = {}
    for event in events:
        by_camera.setdefault(event.camera_id, []).append(event.stamp_ns)
    frame_weight: dict[tuple[str, int], float] = {}
    for camera_id, stamps in by_camera.items():
        frames = sorted(set(stamps))
        steps = [min((b - a) / 1e9, max_weight_s) for a, b in itertools.pairwise(frames)]
        last = float(np.median(steps)) if steps else max_weight_s
        for stamp, step in zip(frames, [*steps, last], strict=True):
            frame_weight[camera_id, stamp] = step
    return np.array([frame_weight[e.camera_id, e.stamp_ns] for e in events], dtype=np.float64)


def grid_shape(width: int, height: int, cell_px: int = DEFAULT_CELL_PX) -> tuple[int, int]:
    """Rows and columns of the grid covering a ``width`` x ``height`` frame."""
    return math.ceil(height / cell_px), math.ceil(width / cell_px)


def accumulate(
    boxes: Sequence[Box],
    weights: Sequence[float] | np.ndarray,
    width: int,
    height: int,
    cell_px: int = DEFAULT_CELL_PX,
) -> np.ndarray:
    """Sum of weights per grid cell at each box's centre (centres off the frame go to the edge cell)."""
    return accumulate_points(box_centres(boxes), weights, width, height, cell_px)


def box_centres(boxes: Sequence[Box]) -> np.ndarray:
    """The boxes' centres (N x 2, pixels): the point of a face box that a heat map places."""
    return np.array([(b.x + b.w / 2, b.y + b.h / 2) for b in boxes], dtype=np.float64).reshape(-1, 2)


def accumulate_points(
    points: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    width: int,
    height: int,
    cell_px: int = DEFAULT_CELL_PX,
) -> np.ndarray:
    """Sum of weights per grid cell at each point (N x 2; points off the area go to the edge cell)."""
    rows, cols = grid_shape(width, height, cell_px)
    grid = np.zeros((rows, cols), dtype=np.float64)
    col = np.clip((points[:, 0] // cell_px).astype(int), 0, cols - 1)
    row = np.clip((points[:, 1] // cell_px).astype(int), 0, rows - 1)
    np.add.at(grid, (row, col), np.asarray(weights, dtype=np.float64))
    return grid


def blurred(
    grid: np.ndarray, sigma_px: float = DEFAULT_SIGMA_PX, cell_px: int = DEFAULT_CELL_PX
) -> np.ndarray:
    """The grid Gaussian-blurred by ``sigma_px`` (frame pixels) and normalised to sum 1 (all zero
    stays zero); heat blurred past the frame's edge is dropped, not folded back in."""
    sigma = sigma_px / cell_px
    heat = grid if sigma <= 0 else cv2.GaussianBlur(grid, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    total = heat.sum()
    return heat / total if total > 0 else heat


def region_mask(boxes: Sequence[Box], shape: tuple[int, int], cell_px: int = DEFAULT_CELL_PX) -> np.ndarray:
    """Grid cells whose centre lies inside any of ``boxes`` (frame pixels)."""
    rows, cols = shape
    ys = (np.arange(rows) + 0.5) * cell_px
    xs = (np.arange(cols) + 0.5) * cell_px
    mask = np.zeros(shape, dtype=bool)
    for b in boxes:
        mask |= ((ys >= b.y) & (ys < b.y + b.h))[:, None] & ((xs >= b.x) & (xs < b.x + b.w))[None, :]
    return mask


def mass_within(heat: np.ndarray, boxes: Sequence[Box], cell_px: int = DEFAULT_CELL_PX) -> float:
    """Share of the heat map's mass in the cells ``boxes`` cover; NaN for an empty map."""
    total = heat.sum()
    if total <= 0:
        return math.nan
    return float(heat[region_mask(boxes, heat.shape, cell_px)].sum() / total)


def camera_heat(
    store: EventStore,
    camera_id: str,
    width: int,
    height: int,
    since_ns: int | None = None,
    until_ns: int | None = None,
    max_weight_s: float = DEFAULT_MAX_WEIGHT_S,
    cell_px: int = DEFAULT_CELL_PX,
    sigma_px: float = DEFAULT_SIGMA_PX,
) -> tuple[np.ndarray, int, float]:
    """One camera's normalised heat grid over ``[since, until)``, its event count and weighted seconds."""
    events = store.read_events(camera_id=camera_id, since_ns=since_ns, until_ns=until_ns)
    weights = time_weights(events, max_weight_s)
    grid = accumulate([e.box for e in events], weights, width, height, cell_px)
    return blurred(grid, sigma_px, cell_px), len(events), float(weights.sum())


def render(heat: np.ndarray, background: np.ndarray) -> np.ndarray:
    """The heat grid as a JET colour map over ``background`` (BGR), opacity rising with the heat."""
    height, width = background.shape[:2]
    peak = heat.max()
    level = heat / peak if peak > 0 else heat
    level = cv2.resize(level.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    level = np.clip(level, 0.0, 1.0)
    colours = cv2.applyColorMap((level * 255).astype(np.uint8), cv2.COLORMAP_JET).astype(np.float32)
    alpha = (HEAT_OPACITY * level)[:, :, None]
    return (background.astype(np.float32) * (1 - alpha) + colours * alpha).round().astype(np.uint8)


def background_image(reference: Path | None, width: int, height: int) -> np.ndarray:
    """The reference photo brought to the frame size the boxes are in, or a grey canvas of it."""
    if reference is None:
        return np.full((height, width, 3), GREY, dtype=np.uint8)
    image = cv2.imread(str(reference), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read reference image {reference}")
    if image.shape[:2] != (height, width):
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return image


@dataclass(frozen=True)
class PlanHeat:
    """A floor-plan heat map and what went into it, and what did not (so nothing is dropped silently)."""

    heat: np.ndarray  # normalised plan grid
    events: dict[str, int]  # drawn events per camera of the floor plan
    seconds: float  # weighted seconds drawn
    off_plan: int  # events of floor-plan cameras whose box centre maps off the plan
    other_cameras: dict[str, int]  # events of cameras the floor plan does not have


def plan_heat(
    events: Sequence[FaceEvent],
    plan: FloorPlan,
    max_weight_s: float = DEFAULT_MAX_WEIGHT_S,
    cell_px: int = DEFAULT_CELL_PX,
    sigma_px: float = DEFAULT_SIGMA_PX,
) -> PlanHeat:
    """Every floor-plan camera's time-weighted box centres, mapped through its homography, on one
    plan grid; ``cell_px`` and ``sigma_px`` are in plan pixels.

    The box centre is mapped, so the cameras' reference points are face-height points above the
    floor marks (see :mod:`face_analytics.floor_plan`): feet are often hidden by the counter or
    out of the frame, the face box is what every event has.
    """
    weights = time_weights(events, max_weight_s)
    cameras = np.array([e.camera_id for e in events], dtype=str)
    centres = box_centres([e.box for e in events])
    mapped = np.full_like(centres, np.nan)
    other: dict[str, int] = {}
    for camera_id in dict.fromkeys(cameras.tolist()):
        rows = cameras == camera_id
        if camera_id in plan.cameras:
            mapped[rows] = to_plan(plan.cameras[camera_id].homography, centres[rows])
        else:
            other[camera_id] = int(rows.sum())
    # NaN (beyond the horizon, or a camera not on the plan) compares False: not inside
    inside = (mapped >= 0).all(axis=1) & (mapped[:, 0] < plan.width) & (mapped[:, 1] < plan.height)
    grid = accumulate_points(mapped[inside], weights[inside], plan.width, plan.height, cell_px)
    return PlanHeat(
        heat=blurred(grid, sigma_px, cell_px),
        events={c: int((inside & (cameras == c)).sum()) for c in plan.cameras},
        seconds=float(weights[inside].sum()),
        off_plan=int((np.isin(cameras, list(plan.cameras)) & ~inside).sum()),
        other_cameras=other,
    )


def plan_view(
    heat: np.ndarray, plan: FloorPlan, background: np.ndarray, caption: Sequence[str]
) -> np.ndarray:
    """The plan heat map with each camera's reference area outlined and named, above a key that
    says what it shows and what the colours mean: the PNG is read by people who never see this
    code or the README. The key's colour ramp is drawn as the map draws heat, faint where little."""
    font, scale, line_px = cv2.FONT_HERSHEY_SIMPLEX, 0.5, 22
    image = render(heat, background)
    for mapping in plan.cameras.values():
        quad = np.round(np.array(mapping.plan_points)).astype(np.int32)
        cv2.polylines(image, [quad], True, (40, 40, 40), 2, cv2.LINE_AA)
        (w, h), _ = cv2.getTextSize(mapping.camera_id, font, scale, 1)
        x, y = (int(v) for v in quad.min(axis=0))
        y = y - h - 8 if y >= h + 8 else y  # name tag above the area, so it hides no heat in it
        cv2.rectangle(image, (x, y), (x + w + 8, y + h + 8), (40, 40, 40), -1)
        cv2.putText(
            image, mapping.camera_id, (x + 4, y + h + 4), font, scale, (255, 255, 255), 1, cv2.LINE_AA
        )
    width = max(plan.width, KEY_MIN_WIDTH_PX)  # a narrow plan gets white margins, the key stays legible
    image = cv2.copyMakeBorder(image, 0, 0, 0, width - plan.width, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    notes = [*caption, "", "Outlined: the floor between each camera's four reference marks"]
    key = np.full((line_px * len(notes) + 10, width, 3), 255, dtype=np.uint8)
    for row, note in enumerate(notes):
        cv2.putText(key, note, (8, line_px * (row + 1)), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
    top = line_px * len(caption) + 8
    ramp = np.tile(np.linspace(0.0, 1.0, 300), (16, 1))
    typical = np.median(background.reshape(-1, 3), axis=0)  # the ramp over the plan's own colour
    key[top : top + 16, 110:410] = render(ramp, np.full((16, 300, 3), typical, dtype=np.uint8))
    cv2.putText(key, "little time", (8, top + 13), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(key, "most time", (418, top + 13), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([image, key])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_heatmap", description=__doc__.splitlines()[0])
    add_database_option(parser)
    parser.add_argument(
        "--camera-id",
        help="camera whose events to map (the events' camera_id); with --floor-plan: only this camera",
    )
    parser.add_argument(
        "--floor-plan",
        type=Path,
        help="YAML of a store plan and each camera's reference points (config/floor_plan.example.yaml): "
        "one map on the plan for all its cameras",
    )
    parser.add_argument(
        "--start", help="period start, ISO 8601 (no zone: UTC), inclusive; default: first event"
    )
    parser.add_argument("--end", help="period end, ISO 8601 (no zone: UTC), exclusive; default: last event")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument(
        "--reference", type=Path, help="photo of the empty scene from this camera (default: grey canvas)"
    )
    parser.add_argument(
        "--width", type=int, default=1280, help="camera frame width the boxes are in (default %(default)s)"
    )
    parser.add_argument("--height", type=int, default=720, help="camera frame height (default %(default)s)")
    parser.add_argument(
        "--max-weight-s",
        type=float,
        default=DEFAULT_MAX_WEIGHT_S,
        help="most seconds one frame counts for (default %(default)s)",
    )
    parser.add_argument(
        "--sigma-px",
        type=float,
        default=DEFAULT_SIGMA_PX,
        help="blur in frame pixels, plan pixels with --floor-plan (default %(default)s)",
    )
    return parser


def camera_map(
    args: argparse.Namespace,
    store: EventStore,
    background: np.ndarray,
    since_ns: int | None,
    until_ns: int | None,
) -> tuple[np.ndarray, str]:
    """One camera's heat map over its reference photo, and the command's summary line."""
    heat, count, seconds = camera_heat(
        store,
        args.camera_id,
        args.width,
        args.height,
        since_ns,
        until_ns,
        args.max_weight_s,
        sigma_px=args.sigma_px,
    )
    note = "" if count else " (no events: background only)"
    summary = (
        f"{count} events of camera {args.camera_id} ({seconds:.1f} s weighted) from "
        f"{describe_database(args.database)}: heat map written to {args.out}{note}"
    )
    return render(heat, background), summary


def floor_plan_map(
    args: argparse.Namespace,
    plan: FloorPlan,
    store: EventStore,
    background: np.ndarray,
    since_ns: int | None,
    until_ns: int | None,
) -> tuple[np.ndarray, str]:
    """All the plan's cameras (or ``--camera-id``) on one plan heat map, and the command's summary:
    events the map cannot place are counted there, not dropped silently."""
    events = store.read_events(camera_id=args.camera_id, since_ns=since_ns, until_ns=until_ns)
    result = plan_heat(events, plan, args.max_weight_s, sigma_px=args.sigma_px)
    drawn = sum(result.events.values())
    per_camera = ", ".join(f"{camera_id} {count}" for camera_id, count in result.events.items())
    lines = [
        f"{drawn} events on the floor plan ({per_camera}; {result.seconds:.1f} s weighted) from "
        f"{describe_database(args.database)}: heat map written to {args.out}"
    ]
    lines += [
        f"not drawn: {count} events of camera {camera_id}, which {args.floor_plan} does not have"
        for camera_id, count in result.other_cameras.items()
    ]
    if result.off_plan:
        lines.append(f"not drawn: {result.off_plan} events whose face box centre maps off the plan")
    first = since_ns if since_ns is not None else min((e.stamp_ns for e in events), default=None)
    last = until_ns if until_ns is not None else max((e.stamp_ns for e in events), default=None)
    period = "no events" if first is None or last is None else f"{utc_text(first)} to {utc_text(last)} UTC"
    total = f"{result.seconds:.0f} s" if result.seconds < 120 else f"{result.seconds / 60:.0f} min"
    only = "" if args.camera_id is None else f"; camera {args.camera_id} only"
    caption = [f"Where customers' faces were, by time spent ({total} in all)", f"{period}{only}"]
    return plan_view(result.heat, plan, background, caption), "\n".join(lines)


def utc_text(stamp_ns: int) -> str:
    """A stamp to the minute for the map's caption (the command line takes the same form)."""
    return datetime.fromtimestamp(stamp_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.camera_id is None and args.floor_plan is None:
        parser.error("give --camera-id, --floor-plan or both")
    plan = None
    try:
        since_ns = None if args.start is None else utc_ns(args.start)
        until_ns = None if args.end is None else utc_ns(args.end)
        if args.floor_plan is None:
            if args.width <= 0 or args.height <= 0:
                raise ValueError("--width and --height must be positive")
            background = background_image(args.reference, args.width, args.height)
        else:
            if args.reference is not None:
                raise ValueError("--reference is one camera's photo: the floor plan's image is in its YAML")
            plan = load_floor_plan(args.floor_plan)
            if args.camera_id is not None:
                plan.camera(args.camera_id)
            background = background_image(plan.image, plan.width, plan.height)
        store = open_existing_store(args.database)
    except (DatabaseUrlError, ValueError) as err:  # FloorPlanError is a ValueError
        print(f"face_heatmap: {err}", file=sys.stderr)
        return 2
    try:
        if plan is None:
            image, summary = camera_map(args, store, background, since_ns, until_ns)
        else:
            image, summary = floor_plan_map(args, plan, store, background, since_ns, until_ns)
    finally:
        store.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    _, png = cv2.imencode(".png", image)  # PNG whatever --out's suffix
    args.out.write_bytes(png.tobytes())
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
