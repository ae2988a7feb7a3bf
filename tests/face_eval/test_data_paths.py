"""``FACE_SHARED_DATA``: the one switch that hides ``../shared/data`` from tests, benches and the gate."""

from __future__ import annotations

from pathlib import Path

import pytest
from face_eval.data_paths import SHARED_DATA_ENV, data_root, shared_data


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone at ``tmp/repo`` with ``tmp/shared/data`` beside it."""
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "repo").mkdir()
    return tmp_path / "repo"


def test_unset_takes_shared_data_beside_the_clone(clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SHARED_DATA_ENV, raising=False)
    assert shared_data(clone) == clone.parent / "shared" / "data"
    assert data_root(clone) == clone.parent / "shared" / "data"


def test_unset_without_shared_data_falls_back_to_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SHARED_DATA_ENV, raising=False)
    assert shared_data(tmp_path) is None
    assert data_root(tmp_path) == tmp_path / "samples"


@pytest.mark.parametrize("hidden", ["", "none", "None", " NONE "])
def test_empty_or_none_hides_it(clone: Path, monkeypatch: pytest.MonkeyPatch, hidden: str) -> None:
    monkeypatch.setenv(SHARED_DATA_ENV, hidden)
    assert shared_data(clone) is None
    assert data_root(clone) == clone / "samples"


def test_a_named_folder_is_taken_and_a_missing_one_is_an_error(
    clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHARED_DATA_ENV, str(tmp_path))
    assert data_root(clone) == tmp_path
    monkeypatch.setenv(SHARED_DATA_ENV, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="no such folder"):
        shared_data(clone)
