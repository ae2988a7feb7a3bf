#!/usr/bin/env bash
# Run every bench with modest sizes (~10 minutes on 2 cores), print their tables and write each
# one's JSON to out/bench/<bench>.json, to compare across commits.
#   bench/run_all.sh                 # all of them
#   bench/run_all.sh transport detect  # a subset, by name (bench_<name>.py)
# A bench that fails is reported and the others still run; the exit status is then 1.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
OUT=${OUT:-$ROOT/out/bench}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
cd "$ROOT"
mkdir -p "$OUT"

declare -A ARGS=(
  [transport]="--frames 12 --repeat 3"
  [detect]="--frames-per-video 2 --repeat 2 --budget-s 15"
  [gallery]="--sizes 1000,100000,1000000 --queries 30 --enrolments 20 --descriptor-repeat 5"
  [agegender]="--repeats 3"
  [hop]="--frames 36 --repeats 1"
  [kafka]="--frames 24 --repeats 1"
  [pipeline]="--cameras 1 --seconds 20"
  [tracking]="--scenes 20"
)
ORDER=(transport detect gallery agegender hop kafka pipeline tracking)
NAMES=("${@:-${ORDER[@]}}")

failed=()
for name in "${NAMES[@]}"; do
  if [[ -z "${ARGS[$name]+set}" ]]; then
    echo "unknown bench '$name'; known: ${ORDER[*]}" >&2
    exit 2
  fi
  echo "=== bench_$name ${ARGS[$name]}"
  # shellcheck disable=SC2086  # the arguments are meant to split
  if ! "$PYTHON" "bench/bench_$name.py" ${ARGS[$name]} --json-out "$OUT/$name.json"; then
    failed+=("$name")
  fi
  echo
done
if ((${#failed[@]})); then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
echo "JSON in $OUT"
