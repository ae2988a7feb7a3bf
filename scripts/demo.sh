#!/usr/bin/env bash
# Set up, then run the main job on the embedded default: the whole ROS 2 graph (camera ->
# detection -> identity -> age/gender -> SQLite sink) as separate node processes over DDS on
# the bundled sample clip, then print the store report and write its plots under out/.
# Extra arguments go to the launcher (e.g. source:=/dev/video0 loop:=true).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
BIN=${VENV:-$ROOT/.venv}/bin
mkdir -p out
"$BIN/graph_launch" launch/local.launch.yaml annotated_dir:=out/annotated "$@"
"$BIN/face_report" --database out/events.sqlite --plots-dir out/report
