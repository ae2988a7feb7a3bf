"""Where the labelled face data is: the team's ``../shared/data``, or the bundled ``samples/``.

One answer for tests, benchmarks and the accuracy gate, so that hiding the shared data hides it
everywhere: CI runs the test command with ``FACE_SHARED_DATA=none`` to take the path a user's
clone takes (no ``../shared``), and the accuracy gate without it.

``FACE_SHARED_DATA``:

- unset: ``../shared/data`` beside the clone, when that folder exists;
- empty or ``none``: no shared data (as on a user's clone);
- any other value: that folder, which must exist (a wrong path is an error, not a quiet fallback).
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA_ENV = "FACE_SHARED_DATA"
#: Values of ``FACE_SHARED_DATA`` that hide the shared data.
HIDDEN_VALUES = ("", "none")


def shared_data(repo_root: Path) -> Path | None:
    """The shared labelled data for the clone at ``repo_root``, or None when absent or hidden.

    ``FileNotFoundError`` when ``FACE_SHARED_DATA`` names a folder that does not exist.
    """
    named = os.environ.get(SHARED_DATA_ENV)
    if named is None:
        default = repo_root.parent / "shared" / "data"
        return default if default.is_dir() else None
    if named.strip().lower() in HIDDEN_VALUES:
        return None
    path = Path(named).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"{SHARED_DATA_ENV}={named}: no such folder (use 'none' to hide the shared data)"
        )
    return path


def data_root(repo_root: Path) -> Path:
    """The shared data when present, else the clone's ``samples/`` (same layout, a few rows)."""
    return shared_data(repo_root) or repo_root / "samples"
