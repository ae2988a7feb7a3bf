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
    out = np.zeros((box.h, box.w, *image.shape[2:]), dtype=image.dtype)
    inside = box.clipped_to(image.shape[1], image.shape[0])
    if inside is not None:
        x0, y0, x1, y1 = inside.x, inside.y, inside.x + inside.w, inside.y + inside.h
        out[y0 - box.y : y1 - box.y, x0 - box.x : x1 - box.x] = image[y0:y1, x0:x1]
    return out
