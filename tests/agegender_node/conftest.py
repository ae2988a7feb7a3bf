"""Fixtures of the age/gender tests: labelled faces cropped as the graph does, and the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from agegender_node.estimators import AgeGenderEstimator, create_estimator
from agegender_node.model_files import FACEAPI_ONNX_FILE, ONNX_FILE, WEIGHTS_FILE
from labelled_faces import LabelledFace, read_labelled_faces

MODEL_DIR = Path(__file__).resolve().parents[2] / "models"
#: Two threads: the test machine's cores; the node's default is one.
TEST_THREADS = 2


@pytest.fixture(scope="session")
def labelled_faces(face_data: Path) -> list[LabelledFace]:
    return read_labelled_faces(face_data / "age_gender")


@pytest.fixture(scope="session")
def model_dir() -> Path:
    missing = [n for n in (WEIGHTS_FILE, ONNX_FILE, FACEAPI_ONNX_FILE) if not (MODEL_DIR / n).is_file()]
    if missing:
        pytest.fail(f"{missing} not in {MODEL_DIR}: run scripts/fetch_models.sh first")
    return MODEL_DIR


@pytest.fixture(scope="session")
def onnx_estimators(model_dir: Path) -> dict[str, AgeGenderEstimator]:
    """The fast backends, loaded once for all tests."""
    return {
        name: create_estimator(name, model_dir, TEST_THREADS)
        for name in ("wideresnet_onnx", "dlib_onnx", "faceapi_onnx")
    }


@pytest.fixture(scope="session")
def keras_estimator(model_dir: Path) -> AgeGenderEstimator:
    """The slow Keras reference (imports TensorFlow)."""
    return create_estimator("wideresnet_keras", model_dir, TEST_THREADS)
