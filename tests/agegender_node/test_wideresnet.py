"""The WideResNet built in Keras with the published weights, and its ONNX export.

The Keras model is the reference; the node runs the ONNX export, so the two must agree on real
faces. TensorFlow is slow to start and to run here, hence a 40-face subset.
"""

from __future__ import annotations

import numpy as np
import pytest
from agegender_node.estimators import AgeGenderEstimator, WideResNetKeras, WideResNetOnnx
from agegender_node.wideresnet import build_wideresnet
from labelled_faces import LabelledFace

EQUIVALENCE_FACES = 40
TOLERANCE = 1e-4
#: WRN-16-8 with a 64x64 input: yu4u's published model summary has this many parameters.
WRN_16_8_PARAMETERS = 24_463_856


def test_network_has_the_published_shape() -> None:
    model = build_wideresnet()
    assert model.count_params() == WRN_16_8_PARAMETERS
    assert [tuple(o.shape) for o in model.outputs] == [(None, 2), (None, 101)]


@pytest.mark.parametrize("depth", [15, 18])
def test_depth_must_be_6n_plus_4(depth: int) -> None:
    with pytest.raises(ValueError, match="6n \\+ 4"):
        build_wideresnet(depth=depth)


def test_keras_reference_and_onnx_export_agree_on_real_faces(
    keras_estimator: AgeGenderEstimator,
    onnx_estimators: dict[str, AgeGenderEstimator],
    labelled_faces: list[LabelledFace],
) -> None:
    onnx = onnx_estimators["wideresnet_onnx"]
    assert isinstance(onnx, WideResNetOnnx)
    keras = keras_estimator
    assert isinstance(keras, WideResNetKeras)
    faces = [lf.face for lf in labelled_faces[:: max(1, len(labelled_faces) // EQUIVALENCE_FACES)]]
    crops, boxes = [f.crop for f in faces], [f.box_in_crop() for f in faces]
    batch = onnx.prepare(crops, boxes)
    keras_gender, keras_age = keras.probabilities(batch)
    onnx_gender, onnx_age = onnx.probabilities(batch)
    np.testing.assert_allclose(onnx_gender, keras_gender, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(onnx_age, keras_age, atol=TOLERANCE, rtol=0)

    # The weights really are loaded: the faces get different, plausible answers.
    estimates = keras.estimate(crops, boxes)
    ages = [e.age for e in estimates]
    assert len(faces) >= 20
    assert min(ages) > 0 and max(ages) < 100 and np.std(ages) > 5
    assert {e.gender for e in estimates} == {"female", "male"}
    for k, o in zip(estimates, onnx.estimate(crops, boxes), strict=True):
        assert o.age == pytest.approx(k.age, abs=100 * TOLERANCE)
        assert o.gender == k.gender or abs(k.p_female - 0.5) < TOLERANCE
