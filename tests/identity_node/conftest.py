"""Fixtures of the identity tests: the labelled identity images and the real descriptor."""

from __future__ import annotations

from pathlib import Path

import pytest
from faces_from_images import read_csv
from identity_node.descriptor import DlibResNetDescriptor


@pytest.fixture(scope="session")
def identity_labels(face_data: Path) -> list[dict[str, str]]:
    return read_csv(face_data / "identity" / "labels.csv")


@pytest.fixture(scope="session")
def descriptor() -> DlibResNetDescriptor:
    return DlibResNetDescriptor()
