"""Bring every frame to the configured output size.

Downstream nodes (detector, annotated view) assume one frame size per camera, whatever the source.
``letterbox`` (the default) keeps the aspect ratio and pads with black, so faces are never
distorted (a stretched face changes what the detector and the age/gender model see);
``stretch`` fills the frame exactly and distorts; ``none`` publishes the source size unchanged.
"""

from __future__ import annotations

from enum import StrEnum

import cv2
import numpy as np


class ResizeMode(StrEnum):
    LETTERBOX = "letterbox"
    STRETCH = "stretch"
    NONE = "none"

    @classmethod
    def parse(cls, text: str) -> ResizeMode:
        try:
            return cls(text)
        except ValueError:
            accepted = ", ".join(mode.value for mode in cls)
            raise ValueError(f"unknown resize_mode {text!r}; accepted: {accepted}") from None


def _interpolation(scale: float) -> int:
    """Area averaging when shrinking (no aliasing), linear when enlarging."""
    return cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR


def fit_to_size(image: np.ndarray, width: int, height: int, mode: ResizeMode) -> np.ndarray:
    """``image`` brought to ``width`` x ``height`` by ``mode`` (unchanged for ``none`` or same size)."""
    in_height, in_width = image.shape[:2]
    if mode is ResizeMode.NONE or (in_width, in_height) == (width, height):
        return image
    if width <= 0 or height <= 0:
        raise ValueError(f"output size must be positive, got {width}x{height}")
    scale = min(width / in_width, height / in_height)
    if mode is ResizeMode.STRETCH:
        return cv2.resize(image, (width, height), interpolation=_interpolation(scale))
    inner_w = min(width, max(1, round(in_width * scale)))
    inner_h = min(height, max(1, round(in_height * scale)))
    inner = cv2.resize(image, (inner_w, inner_h), interpolation=_interpolation(scale))
    canvas = np.zeros((height, width, *image.shape[2:]), dtype=image.dtype)
    top, left = (height - inner_h) // 2, (width - inner_w) // 2
    canvas[top : top + inner_h, left : left + inner_w] = inner
    return canvas
