#!/usr/bin/env bash
# Set up, then run the whole test suite (the README's test command; CI runs it too).
# The integration tests start their own servers on loopback: the tansu Kafka broker (from a
# PyPI wheel) and a MariaDB server, which comes from Debian's packages and is installed here
# when missing (needs root or sudo), as is Debian's chromium for the dashboard's browser tests.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! command -v mariadbd >/dev/null 2>&1 && ! [ -x /usr/sbin/mariadbd ]; then
  echo "[test] installing Debian's mariadb-server for the MySQL tests"
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q mariadb-server
fi
if ! [ -x /usr/bin/chromium ]; then
  echo "[test] installing Debian's chromium for the dashboard's browser tests"
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
fi
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
"${VENV:-$ROOT/.venv}/bin/ruff" check .
exec "${VENV:-$ROOT/.venv}/bin/python" -m pytest "$@"
