"""Cutting face crops out of frames."""

from __future__ import annotations

import numpy as np

from face_common.faces import Box


def crop_zero_padded(image: np.ndarray, box: Box) -> np.ndarray:
    """Return the pixels of ``box``; parts outside ``image`` are black, never clipped.

    Keeping the crop's geometry fixed at the border matters: the age/gender model saw
    margins padded this way in training, and clipping shifts its predictions.
    """
    if box.w <= 0 or box.h <= 0:
        raise ValueError(f"empty crop box {box}")
    h, w = image.shape[:2]
    out = np.zeros((box.h, box.w, *image.shape[2:]), dtype=image.dtype)
    x0, y0 = max(box.x, 0), max(box.y, 0)
    x1, y1 = min(box.x + box.w, w), min(box.y + box.h, h)
    if x0 < x1 and y0 < y1:
        out[y0 - box.y : y1 - box.y, x0 - box.x : x1 - box.x] = image[y0:y1, x0:x1]
    return out
