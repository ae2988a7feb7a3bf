"""Floor-plan view of the heat maps (issue 10): per camera, a homography from four reference points.

An operator marks four points in each camera's picture and the same four points on a store plan
(an image, or just a size in pixels) in a YAML file (``config/floor_plan.example.yaml``). Each
camera's homography (``cv2.getPerspectiveTransform``) then maps that camera's pixels onto the plan.
A homography maps one plane onto another, so the four camera points must lie on the plane the
mapped points lie on: ``face_heatmap`` maps face box centres, so the reference points are where a
face appears when a person stands on each floor mark (the plan point is the mark). Everything
wrong in the file is one :class:`FloorPlanError` naming the camera and key, so the command can
print it and exit 2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

# Three reference points closer to a line than this share of the longest side between them make
# the homography ill-conditioned: a pixel of error moves the plan far.
MIN_TURN = 0.01
Quad = tuple[tuple[float, float], ...]


class FloorPlanError(ValueError):
    """A floor-plan config the heat map cannot use, or a camera it does not have."""


@dataclass(frozen=True)
class CameraMapping:
    """One camera's four reference points in its picture, the matching plan points and the
    homography between them."""

    camera_id: str
    image_points: Quad
    plan_points: Quad
    homography: np.ndarray


@dataclass(frozen=True)
class FloorPlan:
    """The plan (image or grey canvas of ``width`` x ``height`` pixels) and the cameras on it."""

    width: int
    height: int
    image: Path | None
    cameras: Mapping[str, CameraMapping]

    def camera(self, camera_id: str) -> CameraMapping:
        """The camera's mapping; unknown cameras are an error, not an empty map."""
        if camera_id not in self.cameras:
            known = ", ".join(self.cameras)
            raise FloorPlanError(f"camera {camera_id!r} is not in the floor plan (cameras: {known})")
        return self.cameras[camera_id]


def homography(image_points: Sequence[Sequence[float]], plan_points: Sequence[Sequence[float]]) -> np.ndarray:
    """The 3x3 perspective transform taking the four image points onto the four plan points,
    scaled so that the reference quad's side of the horizon has w > 0 (see :func:`to_plan`)."""
    source = np.asarray(image_points, dtype=np.float64)
    matrix = cv2.getPerspectiveTransform(source.astype(np.float32), np.asarray(plan_points, dtype=np.float32))
    centre = np.append(source.mean(axis=0), 1.0)
    return matrix if matrix[2] @ centre > 0 else -matrix


def to_plan(matrix: np.ndarray, points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """Image points (N x 2) as plan points; NaN for points at or beyond the mapped plane's horizon,
    which no point of that plane can reach (the reference quad's own side is w > 0)."""
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    mapped = np.column_stack([xy, np.ones(len(xy))]) @ matrix.T
    w = mapped[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w > 0, mapped[:, :2] / w, np.nan)


def check_quad(points: Quad, where: str) -> None:
    """Four points must outline a convex quadrilateral, in order around it, without three of them
    (nearly) on one line: otherwise the homography is undefined, folded or ill-conditioned."""
    turns = []
    for i in range(4):
        a, b, c = (np.array(points[(i + k) % 4]) for k in range(3))
        longest = max(np.linalg.norm(b - a), np.linalg.norm(c - b), np.linalg.norm(c - a))
        (ux, uy), (vx, vy) = b - a, c - b
        cross = float(ux * vy - uy * vx)
        if longest == 0 or abs(cross) < MIN_TURN * longest**2:
            corners = ", ".join(str(list(points[(i + k) % 4])) for k in range(3))
            raise FloorPlanError(f"{where}: points {corners} lie (nearly) on one line or coincide")
        turns.append(cross > 0)
    if len(set(turns)) > 1:
        raise FloorPlanError(
            f"{where}: the four points must be the corners of a convex quadrilateral, "
            "listed in order around it (the outline crosses itself or bends inwards)"
        )


def _quad(value: Any, where: str) -> Quad:
    if not isinstance(value, list) or len(value) != 4:
        raise FloorPlanError(f"{where}: need 4 points [x, y], got {value!r}")
    points = []
    for point in value:
        if (
            not isinstance(point, list)
            or len(point) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
            or not all(math.isfinite(v) for v in point)
        ):
            raise FloorPlanError(f"{where}: each point must be [x, y] in pixels, got {point!r}")
        points.append((float(point[0]), float(point[1])))
    quad = tuple(points)
    check_quad(quad, where)
    return quad


def _keys(mapping: Any, required: set[str], optional: set[str], where: str) -> None:
    """A mapping with every required key and no unknown one (a typo would otherwise go unseen)."""
    if not isinstance(mapping, dict):
        raise FloorPlanError(f"{where}: expected a mapping of keys, got {mapping!r}")
    unknown = set(mapping) - required - optional
    if unknown:
        raise FloorPlanError(f"{where}: unknown key(s) {', '.join(map(str, sorted(unknown, key=str)))}")
    missing = required - set(mapping)
    if missing:
        raise FloorPlanError(f"{where}: missing key(s) {', '.join(sorted(missing))}")


def _plan_size(document: dict[str, Any], config: Path) -> tuple[int, int, Path | None]:
    """Width, height and image of the plan: exactly one of ``plan_image`` and ``plan_size``."""
    if ("plan_image" in document) == ("plan_size" in document):
        raise FloorPlanError(f"{config}: give exactly one of plan_image and plan_size")
    if "plan_image" in document:
        image = config.parent / str(document["plan_image"])
        picture = cv2.imread(str(image), cv2.IMREAD_COLOR)
        if picture is None:
            raise FloorPlanError(f"{config}: plan_image: cannot read image {image}")
        return picture.shape[1], picture.shape[0], image
    size = document["plan_size"]
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise FloorPlanError(f"{config}: plan_size: need [width, height] in whole pixels > 0, got {size!r}")
    return size[0], size[1], None


def load_floor_plan(config: Path) -> FloorPlan:
    """The floor plan of a YAML config, checked: every problem names the camera and key."""
    try:
        document = yaml.safe_load(config.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise FloorPlanError(f"cannot read floor plan {config}: {err}") from err
    _keys(document, {"cameras"}, {"plan_image", "plan_size"}, str(config))
    width, height, image = _plan_size(document, config)
    cameras = document["cameras"]
    if not isinstance(cameras, dict) or not cameras:
        raise FloorPlanError(f"{config}: cameras: need at least one camera id with its points")
    mappings = {}
    for key, entry in cameras.items():
        camera_id = str(key)
        where = f"{config}: camera {camera_id!r}"
        _keys(entry, {"image_points", "plan_points"}, set(), where)
        image_points = _quad(entry["image_points"], f"{where}: image_points")
        plan_points = _quad(entry["plan_points"], f"{where}: plan_points")
        outside = [p for p in plan_points if not (0 <= p[0] <= width and 0 <= p[1] <= height)]
        if outside:
            raise FloorPlanError(f"{where}: plan_points: {list(outside[0])} is off the {width}x{height} plan")
        matrix = homography(image_points, plan_points)
        mappings[camera_id] = CameraMapping(camera_id, image_points, plan_points, matrix)
    return FloorPlan(width, height, image, mappings)
