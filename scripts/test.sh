#!/usr/bin/env bash
# Set up, then run the whole test suite (the README's test command; CI runs it too).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
"${VENV:-$ROOT/.venv}/bin/ruff" check .
exec "${VENV:-$ROOT/.venv}/bin/python" -m pytest "$@"
