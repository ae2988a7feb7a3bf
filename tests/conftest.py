"""Shared fixtures: where the labelled face data lives.

CI and developers have ``../shared/data`` next to the clone; a user's clone may not, and
then the small permissively licensed samples committed under ``samples/`` (same layout)
stand in, so the test command passes everywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
SAMPLES = REPO_ROOT / "samples"


def data_root() -> Path:
    return SHARED_DATA if SHARED_DATA.is_dir() else SAMPLES


@pytest.fixture(scope="session")
def face_data() -> Path:
    """Root of the labelled data: ``../shared/data`` when present, else ``samples/``."""
    return data_root()
