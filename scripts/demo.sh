#!/usr/bin/env bash
# Set up, then run the main job on the embedded default: the whole ROS 2 graph (camera ->
# detection -> identity -> age/gender -> SQLite sink) as separate node processes over DDS on
# the bundled sample clip, then print the store report and write its plots under out/.
# Extra arguments go to the launcher (e.g. source:=/dev/video0 loop:=true).
# Annotated frames (customers' faces) are saved to out/annotated/ for the bundled clip only: with
# a source:= of your own (a real camera) none are written unless you pass annotated_dir:=DIR.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
BIN=${VENV:-$ROOT/.venv}/bin
mkdir -p out
annotate=(annotated_dir:=out/annotated)
for arg in "$@"; do
  case "$arg" in source:=* | annotated_dir:=*) annotate=() ;; esac
done
"$BIN/graph_launch" launch/local.launch.yaml ${annotate[@]+"${annotate[@]}"} "$@"
"$BIN/face_report" --database out/events.sqlite --plots-dir out/report
