"""Shared fixtures: where the labelled face data lives; the Fast DDS set-up of the test process.

CI and developers have ``../shared/data`` next to the clone; a user's clone may not, and
then the small permissively licensed samples committed under ``samples/`` (same layout)
stand in, so the test command passes everywhere.

Fast DDS reads its XML profile once per process, when the first participant is made, so the
launcher's set-up (``ros_processes.DDS_SETTINGS``: 32 MB shared memory for 720p frames, no TCP)
is put in the environment here, before any test makes one; node processes inherit it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ros_processes import DDS_SETTINGS

os.environ.pop("FASTDDS_BUILTIN_TRANSPORTS", None)
os.environ.update(DDS_SETTINGS)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
SAMPLES = REPO_ROOT / "samples"


def data_root() -> Path:
    return SHARED_DATA if SHARED_DATA.is_dir() else SAMPLES


@pytest.fixture(scope="session")
def face_data() -> Path:
    """Root of the labelled data: ``../shared/data`` when present, else ``samples/``."""
    return data_root()
