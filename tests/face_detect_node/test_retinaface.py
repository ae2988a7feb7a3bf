"""RetinaFace pre/post-processing on hand-made inputs, and the detector on real photos."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from face_common.geometry import iou, match_greedy
from face_detect_node import retinaface
from face_detect_node.detectors import RetinaFaceDetector


def test_priors_cover_each_head_cell_by_cell_with_both_sizes() -> None:
    found = retinaface.priors(64, 96)
    # stride 8: 8x12 cells, 16: 4x6, 32: 2x3; two sizes per cell.
    assert found.shape == ((8 * 12 + 4 * 6 + 2 * 3) * 2, 4)
    np.testing.assert_array_equal(found[:3], [[4, 4, 16, 16], [4, 4, 32, 32], [12, 4, 16, 16]])
    np.testing.assert_array_equal(found[2 * 12], [4, 12, 16, 16])  # second row of stride 8
    np.testing.assert_array_equal(found[8 * 12 * 2], [8, 8, 64, 64])  # first stride-16 prior
    np.testing.assert_array_equal(found[-1], [80, 48, 512, 512])  # last stride-32 cell, large size


def test_priors_round_partial_cells_up() -> None:
    assert len(retinaface.priors(100, 100)) == (13 * 13 + 7 * 7 + 4 * 4) * 2


def test_zero_offset_decodes_to_the_prior_itself() -> None:
    decoded = retinaface.decode_boxes(np.zeros((1, 4), np.float32), np.array([[50, 60, 16, 32]], np.float32))
    np.testing.assert_allclose(decoded, [[42, 44, 58, 76]])


def test_known_offset_moves_the_centre_by_variance_times_size_and_scales_exponentially() -> None:
    prior = np.array([[100, 50, 20, 40]], np.float32)
    loc = np.array([[1.0, -2.0, math.log(2) / 0.2, 0.0]], np.float32)
    # centre (100 + 1 * 0.1 * 20, 50 - 2 * 0.1 * 40) = (102, 42); size (20 * 2, 40).
    np.testing.assert_allclose(retinaface.decode_boxes(loc, prior), [[82, 22, 122, 62]], rtol=1e-5)


def test_nms_keeps_the_higher_of_two_overlapping_boxes_and_a_separate_one() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.6, 0.9, 0.7], np.float32)
    assert retinaface.nms(boxes, scores, 0.4).tolist() == [1, 2]
    assert retinaface.nms(boxes, scores, 0.9).tolist() == [1, 2, 0]  # IoU 0.82: both kept
    assert retinaface.nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.4).tolist() == []


def test_detections_threshold_decode_and_suppress() -> None:
    prior_boxes = np.array([[20, 20, 16, 16], [21, 20, 16, 16], [80, 80, 32, 32]], np.float32)
    loc = np.zeros((3, 4), np.float32)
    boxes, scores = retinaface.detections(loc, np.array([0.8, 0.95, 0.3]), prior_boxes, 0.5, 0.4)
    np.testing.assert_allclose(boxes, [[13, 12, 29, 28]])  # the 0.95 prior; 0.8 suppressed, 0.3 cut
    np.testing.assert_allclose(scores, [0.95])


def test_network_input_resizes_the_longest_side_pads_and_subtracts_the_bgr_mean() -> None:
    image = np.zeros((720, 1280, 3), np.uint8)
    image[:] = (105, 119, 126)  # BGR: mean + (1, 2, 3)
    blob, scale = retinaface.network_input(image, 640)
    assert scale == 0.5
    assert blob.shape == (1, 3, 384, 640) and blob.dtype == np.float32  # 360 rows padded to 384
    np.testing.assert_allclose(blob[0, :, :360].reshape(3, -1).mean(axis=1), [1, 2, 3])
    assert not blob[0, :, 360:].any()  # padding is the mean colour


def test_detector_finds_the_three_faces_of_a_camera_frame(frame_720p: np.ndarray) -> None:
    found = RetinaFaceDetector().detect(frame_720p)
    assert len(found) == 3
    assert all(0.5 <= score <= 1.0 for _, score in found)
    assert all(120 <= box.h <= 230 for box, _ in found)  # the faces are 120-170 px (boxes are taller)


@pytest.mark.parametrize("input_size", [480, 960])
def test_boxes_are_in_the_given_images_pixels(frame_720p: np.ndarray, input_size: int) -> None:
    detector = RetinaFaceDetector(input_size=input_size)
    half = cv2.resize(frame_720p, (640, 360), interpolation=cv2.INTER_AREA)
    full_boxes = [box for box, _ in detector.detect(frame_720p)]
    half_boxes_grown = [box.scaled(2.0) for box, _ in detector.detect(half)]
    pairs = match_greedy(half_boxes_grown, full_boxes, iou_threshold=0.8)
    assert len(pairs) == len(full_boxes) == 3
    assert all(iou(half_boxes_grown[h], full_boxes[f]) >= 0.8 for h, f in pairs)


def test_a_higher_score_threshold_keeps_a_subset(face_data: Path) -> None:
    image = cv2.imread(str(face_data / "detection" / "dlib_faces" / "2008_002079.jpg"))
    loose = RetinaFaceDetector(score_threshold=0.1).detect(image)
    strict = RetinaFaceDetector(score_threshold=0.9).detect(image)
    assert len(strict) < len(loose)
    assert set(strict) <= set(loose)
    assert all(score >= 0.9 for _, score in strict)


def test_input_size_below_one_stride_is_refused() -> None:
    with pytest.raises(ValueError, match="input_size"):
        RetinaFaceDetector(input_size=16)
