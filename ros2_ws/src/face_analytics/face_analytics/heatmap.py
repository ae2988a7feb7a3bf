"""``face_heatmap``: where in one camera's picture faces were, weighted by time spent, as a PNG.

Each event's box centre counts for the time until that camera's next frame stamp in the store
(capped, so the gap to the next customer does not count as dwell), accumulated on a coarse grid,
Gaussian-blurred, normalised and drawn as a colour map over a reference photo of the empty scene.
Frames are not stored by default (privacy), so the operator supplies that photo; without one the
map is drawn on a neutral grey canvas of the camera's frame size. The pure steps (weights, grid,
mass within a region) are separate functions so tests can check where the mass lies.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from face_common.faces import Box, FaceEvent
from face_sink.mysql_store import (
    DatabaseUrlError,
    add_database_option,
    describe_database,
    open_existing_store,
)
from face_sink.schema import EventStore, utc_ns

DEFAULT_MAX_WEIGHT_S = 1.0  # a frame counts for at most this long: gaps between customers are not dwell
DEFAULT_CELL_PX = 8  # grid cell size: 1/8 of the frame's resolution
DEFAULT_SIGMA_PX = 20.0  # blur: about a small face's half-width at 720p
GREY = 128
HEAT_OPACITY = 0.65  # opacity of the hottest colour; cold cells leave the background visible


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
    rows, cols = grid_shape(width, height, cell_px)
    grid = np.zeros((rows, cols), dtype=np.float64)
    if not boxes:
        return grid
    centres = np.array([(b.x + b.w / 2, b.y + b.h / 2) for b in boxes])
    col = np.clip((centres[:, 0] // cell_px).astype(int), 0, cols - 1)
    row = np.clip((centres[:, 1] // cell_px).astype(int), 0, rows - 1)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="face_heatmap", description=__doc__.splitlines()[0])
    add_database_option(parser)
    parser.add_argument(
        "--camera-id", required=True, help="camera whose events to map (the events' camera_id)"
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
        "--sigma-px", type=float, default=DEFAULT_SIGMA_PX, help="blur in frame pixels (default %(default)s)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        since_ns = None if args.start is None else utc_ns(args.start)
        until_ns = None if args.end is None else utc_ns(args.end)
        if args.width <= 0 or args.height <= 0:
            raise ValueError("--width and --height must be positive")
        background = background_image(args.reference, args.width, args.height)
        store = open_existing_store(args.database)
    except (DatabaseUrlError, ValueError) as err:
        print(f"face_heatmap: {err}", file=sys.stderr)
        return 2
    try:
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
    finally:
        store.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    _, png = cv2.imencode(".png", render(heat, background))  # PNG whatever --out's suffix
    args.out.write_bytes(png.tobytes())
    note = "" if count else " (no events: background only)"
    print(
        f"{count} events of camera {args.camera_id} ({seconds:.1f} s weighted) from "
        f"{describe_database(args.database)}: heat map written to {args.out}{note}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
