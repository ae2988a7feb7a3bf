"""scripts/store.sh keeps the face gallery and the event databases together, or neither (its
--dry-run: where they would be, without starting anything)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

STORE_SH = Path(__file__).resolve().parents[2] / "scripts" / "store.sh"


def store_sh(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(STORE_SH), *args], capture_output=True, text=True, timeout=30)


def test_by_default_gallery_and_databases_are_fresh_together() -> None:
    run = store_sh("--dry-run", "source:=/dev/video0")
    assert run.returncode == 0, run.stderr
    assert "fresh for this run" in run.stdout
    assert "gallery: <temporary directory>/gallery.sqlite" in run.stdout
    assert "mariadb: <temporary directory>/mariadb" in run.stdout


def test_keep_puts_gallery_and_databases_in_one_directory(tmp_path: Path) -> None:
    run = store_sh("--keep", str(tmp_path / "state"), "--dry-run")
    assert run.returncode == 0, run.stderr
    assert f"gallery: {tmp_path}/state/gallery.sqlite" in run.stdout
    assert f"mariadb: {tmp_path}/state/mariadb" in run.stdout
    assert not (tmp_path / "state").exists(), "a dry run creates nothing"


@pytest.mark.parametrize("kept", ["gallery.sqlite", "mariadb/data"])
def test_a_gallery_without_its_database_or_the_reverse_is_refused(tmp_path: Path, kept: str) -> None:
    (tmp_path / kept).parent.mkdir(parents=True, exist_ok=True)
    if kept.endswith(".sqlite"):
        (tmp_path / kept).touch()
    else:
        (tmp_path / kept).mkdir()
    run = store_sh("--keep", str(tmp_path), "--dry-run")
    assert run.returncode == 2 and "they are kept together" in run.stderr


@pytest.mark.parametrize("argument", ["gallery:=out/gallery.sqlite", "database:=out/x.sqlite"])
def test_a_gallery_or_database_of_its_own_is_refused(argument: str) -> None:
    run = store_sh(argument, "--dry-run")
    assert run.returncode == 2 and "use --keep DIR" in run.stderr
