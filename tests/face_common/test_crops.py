import numpy as np
import pytest
from face_common.crops import crop_zero_padded
from face_common.faces import Box

IMAGE = np.arange(10 * 12 * 3, dtype=np.uint8).reshape(10, 12, 3)


@pytest.mark.parametrize(
    ("box", "inside"),
    [
        (Box(2, 3, 4, 5), (slice(0, 5), slice(0, 4))),  # fully inside: a plain slice
        (Box(-2, -1, 5, 4), (slice(1, 4), slice(2, 5))),  # past the top-left corner
        (Box(9, 7, 6, 6), (slice(0, 3), slice(0, 3))),  # past the bottom-right corner
    ],
)
def test_crop_keeps_geometry_and_pads_black(box: Box, inside: tuple[slice, slice]) -> None:
    crop = crop_zero_padded(IMAGE, box)
    assert crop.shape == (box.h, box.w, 3)
    ys, xs = inside
    y0, x0 = box.y + ys.start, box.x + xs.start
    source = IMAGE[y0 : y0 + ys.stop - ys.start, x0 : x0 + xs.stop - xs.start]
    np.testing.assert_array_equal(crop[inside], source)
    padding = np.ones(crop.shape[:2], bool)
    padding[inside] = False
    assert not crop[padding].any()


def test_crop_entirely_outside_is_black() -> None:
    crop = crop_zero_padded(IMAGE, Box(50, 50, 4, 4))
    assert crop.shape == (4, 4, 3) and not crop.any()


@pytest.mark.parametrize("box", [Box(0, 0, 0, 5), Box(0, 0, 5, -1)])
def test_empty_box_is_an_error(box: Box) -> None:
    with pytest.raises(ValueError, match="empty crop box"):
        crop_zero_padded(IMAGE, box)


def test_mono_image_crop() -> None:
    mono = IMAGE[..., 0]
    assert crop_zero_padded(mono, Box(-1, 0, 3, 2)).shape == (2, 3)
