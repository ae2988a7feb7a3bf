"""Floor-plan config (issue 10): homographies from four reference points checked against known
transforms and hand maths, and every malformed config refused with the camera and key named."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from face_analytics.floor_plan import FloorPlanError, homography, load_floor_plan, to_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "floor_plan.example.yaml"
SQUARE = [[0, 0], [1000, 0], [1000, 1000], [0, 1000]]


def same_transform(a: np.ndarray, b: np.ndarray) -> bool:
    """Homographies are defined up to scale: compare them normalised."""
    return np.allclose(a / np.linalg.norm(a), b / np.linalg.norm(b), atol=1e-9)


def test_identity_and_scale_with_shift_are_found_exactly():
    assert same_transform(homography(SQUARE, SQUARE), np.eye(3))
    points = np.array([[0.0, 0.0], [250.0, 750.0], [1200.0, -40.0]])
    assert to_plan(homography(SQUARE, SQUARE), points) == pytest.approx(points)
    plan = [[2 * x + 10, 2 * y + 20] for x, y in SQUARE]
    expected = np.array([[2, 0, 10], [0, 2, 20], [0, 0, 1]], dtype=float)
    assert same_transform(homography(SQUARE, plan), expected)
    assert to_plan(homography(SQUARE, plan), points) == pytest.approx(points * 2 + [10, 20])


def test_a_perspective_matches_hand_maths_and_points_beyond_the_horizon_have_no_plan_position():
    # H = [[1, 0, 0], [0, 1, 0], [0.001, 0, 1]]: (x, y) -> (x, y) / (1 + x / 1000), so the square's
    # far side x = 1000 is halved: (1000, 0) -> (500, 0), (1000, 1000) -> (500, 500).
    plan = [[0, 0], [500, 0], [500, 500], [0, 1000]]
    matrix = homography(SQUARE, plan)
    assert same_transform(matrix, np.array([[1, 0, 0], [0, 1, 0], [0.001, 0, 1]]))
    # the square's centre: (500, 500) / 1.5
    assert to_plan(matrix, [[500, 500]])[0] == pytest.approx([1000 / 3, 1000 / 3])
    # x = -1000 is the horizon (w = 0), beyond it w < 0: no point of the plane appears there
    assert np.isnan(to_plan(matrix, [[-1000, 0], [-1500, 300]])).all()


def test_the_side_of_the_horizon_is_the_reference_quads_whatever_the_matrixs_sign():
    # The same H, with the square moved past its horizon (x < -1000: w < 0 there, 1 at the origin):
    # the quad's side is the mapped one and the origin now lies beyond.
    image = [[-3000, 0], [-2000, 0], [-2000, 1000], [-3000, 1000]]
    plan = [[1500, 0], [2000, 0], [2000, -1000], [1500, -500]]  # (x, y) / (1 + x / 1000) by hand
    matrix = homography(image, plan)
    assert to_plan(matrix, image) == pytest.approx(np.array(plan, dtype=float))
    assert to_plan(matrix, [[-2500, 500]])[0] == pytest.approx([2500 / 1.5, -500 / 1.5])
    assert np.isnan(to_plan(matrix, [[0, 0]])).all()


def test_the_example_config_loads_and_reference_points_land_on_the_plan_points():
    plan = load_floor_plan(EXAMPLE)
    assert (plan.width, plan.height, plan.image) == (800, 500, None)
    assert list(plan.cameras) == ["cam1", "cam2"]
    for mapping in plan.cameras.values():
        mapped = to_plan(mapping.homography, mapping.image_points)
        assert mapped == pytest.approx(np.array(mapping.plan_points), abs=1e-6)
        middle = to_plan(mapping.homography, [np.mean(mapping.image_points, axis=0)])[0]
        assert cv2.pointPolygonTest(np.float32(mapping.plan_points), middle, False) > 0
    assert plan.camera("cam2") is plan.cameras["cam2"]
    with pytest.raises(FloorPlanError, match="'cam9' is not in the floor plan \\(cameras: cam1, cam2\\)"):
        plan.camera("cam9")


def test_the_plan_image_is_found_relative_to_the_config_and_gives_the_plan_size(tmp_path):
    (tmp_path / "plans").mkdir()
    cv2.imwrite(str(tmp_path / "plans" / "shop.png"), np.zeros((300, 400, 3), dtype=np.uint8))
    config = tmp_path / "floor.yaml"
    config.write_text(
        "plan_image: plans/shop.png\n"
        "cameras:\n  7:\n    image_points: [[0, 0], [10, 0], [10, 10], [0, 10]]\n"
        "    plan_points: [[0, 0], [400, 0], [400, 300], [0, 300]]\n"
    )
    plan = load_floor_plan(config)
    assert (plan.width, plan.height, plan.image) == (400, 300, tmp_path / "plans" / "shop.png")
    assert list(plan.cameras) == ["7"]  # a numeric id in YAML is still the camera id string


CAMERA = (
    "image_points: [[0, 0], [100, 0], [100, 100], [0, 100]]\n"
    "    plan_points: [[0, 0], [50, 0], [50, 50], [0, 50]]"
)


def one_camera(old: str = "", new: str = "", size: str = "[100, 100]") -> str:
    """A config of camera cam1 on a plan of ``size``, with ``old`` in its points replaced by ``new``."""
    return f"plan_size: {size}\ncameras:\n  cam1:\n    {CAMERA.replace(old, new)}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("plan_size: [100, 100]\ncameras: [unclosed", "cannot read floor plan"),
        ("- a list", "expected a mapping"),
        (f"cameras:\n  cam1:\n    {CAMERA}\n", "give exactly one of plan_image and plan_size"),
        (f"plan_image: x.png\n{one_camera()}", "exactly one of"),
        (f"plan_image: x.png\ncameras:\n  cam1:\n    {CAMERA}\n", "plan_image: cannot read image"),
        (one_camera(size="[100, 0]"), "plan_size: need \\[width, height\\]"),
        ("plan_size: [100, 100]\n", "missing key\\(s\\) cameras"),
        ("plan_size: [100, 100]\ncameras: {}\n", "cameras: need at least one camera"),
        (f"plan_imgae: a.png\n{one_camera()}", "unknown key.*plan_imgae"),
        (
            one_camera("\n    plan_points: [[0, 0], [50, 0], [50, 50], [0, 50]]"),
            "'cam1': missing key\\(s\\) plan_points",
        ),
        (one_camera(", [0, 100]]", "]"), "camera 'cam1': image_points: need 4 points"),
        (one_camera("[100, 0]", "[100, a]"), "camera 'cam1': image_points: each point must be \\[x, y\\]"),
        (
            one_camera("[100, 0]", "[50, 50]"),
            "camera 'cam1': image_points: points .* lie \\(nearly\\) on one line",
        ),
        (one_camera("[50, 0]", "[0, 0]"), "camera 'cam1': plan_points: points .* coincide"),
        (
            one_camera("[100, 0], [100, 100]", "[100, 100], [100, 0]"),
            "camera 'cam1': image_points: .* in order around it",
        ),
        (one_camera(size="[40, 100]"), "camera 'cam1': plan_points: \\[50.0, 0.0\\] is off the 40x100 plan"),
    ],
)
def test_malformed_configs_are_refused_naming_the_camera_and_key(tmp_path, text, message):
    (tmp_path / "x.png").write_bytes(b"not an image")
    config = tmp_path / "floor.yaml"
    config.write_text(text)
    with pytest.raises(FloorPlanError, match=message):
        load_floor_plan(config)


def test_a_missing_config_file_is_a_floor_plan_error(tmp_path):
    with pytest.raises(FloorPlanError, match="cannot read floor plan"):
        load_floor_plan(tmp_path / "none.yaml")
