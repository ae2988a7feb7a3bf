"""Resize policy: letterbox keeps the aspect and pads black, stretch fills, none passes through."""

from __future__ import annotations

import numpy as np
import pytest
from camera_node.resize import ResizeMode, fit_to_size


def white(height: int, width: int) -> np.ndarray:
    return np.full((height, width, 3), 255, np.uint8)


@pytest.mark.parametrize(
    ("in_size", "out_size", "inner_box"),
    [
        # (w, h) in, (w, h) out, (left, top, w, h) of the image inside the black canvas
        ((640, 360), (1280, 720), (0, 0, 1280, 720)),  # same aspect: fills
        ((640, 480), (1280, 720), (160, 0, 960, 720)),  # 4:3 into 16:9: pillar box
        ((1920, 600), (1280, 720), (0, 160, 1280, 400)),  # wide: letter box
        ((100, 100), (1280, 720), (280, 0, 720, 720)),  # enlarged
        ((1920, 1080), (640, 360), (0, 0, 640, 360)),  # shrunk
    ],
)
def test_letterbox_keeps_aspect_and_pads_black(
    in_size: tuple[int, int], out_size: tuple[int, int], inner_box: tuple[int, int, int, int]
) -> None:
    out = fit_to_size(white(in_size[1], in_size[0]), *out_size, ResizeMode.LETTERBOX)
    assert out.shape == (out_size[1], out_size[0], 3)
    left, top, width, height = inner_box
    mask = np.zeros(out.shape[:2], bool)
    mask[top : top + height, left : left + width] = True
    assert (out[mask] == 255).all()
    assert (out[~mask] == 0).all()


def test_stretch_fills_the_frame() -> None:
    out = fit_to_size(white(480, 640), 1280, 720, ResizeMode.STRETCH)
    assert out.shape == (720, 1280, 3)
    assert (out == 255).all()


def test_none_and_same_size_return_the_input_unchanged() -> None:
    image = white(360, 640)
    assert fit_to_size(image, 1280, 720, ResizeMode.NONE) is image
    assert fit_to_size(image, 640, 360, ResizeMode.LETTERBOX) is image


def test_grey_images_keep_one_channel() -> None:
    out = fit_to_size(np.full((10, 20), 7, np.uint8), 40, 40, ResizeMode.LETTERBOX)
    assert out.shape == (40, 40)


def test_unknown_mode_lists_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match="accepted: letterbox, stretch, none"):
        ResizeMode.parse("crop")


def test_non_positive_size_is_refused() -> None:
    with pytest.raises(ValueError, match="output size must be positive"):
        fit_to_size(white(10, 10), 0, 720, ResizeMode.STRETCH)
