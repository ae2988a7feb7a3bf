#!/usr/bin/env bash
# A throwaway MariaDB server for tests and the single-machine run, as a user process: data
# directory and unix socket in DIR, TCP on 127.0.0.1:PORT only. Creates the database and a user
# with all rights on it, prints its DSN on stdout once the server answers, runs until SIGTERM or
# SIGINT, then shuts the server down cleanly (and deletes DIR when it made it).
#
#   scripts/start_mariadb.sh [--dir DIR] [--port PORT]
#   env: MARIADB_DATABASE (faces), MARIADB_USER (faces), MARIADB_PASSWORD (default: random)
#   stdout: mysql://USER:PASSWORD@127.0.0.1:PORT/DATABASE
#
# Needs Debian's server package: apt-get install -y mariadb-server (its service is not used).
# Works as root too (CI): the server then runs as root via --user=root.
set -euo pipefail

dir="" port=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) echo "start_mariadb.sh: unknown argument $1 (use --dir DIR, --port PORT)" >&2; exit 2 ;;
  esac
done
for tool in mariadbd mariadb-install-db mariadb mariadb-admin; do
  if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
    echo "start_mariadb.sh: $tool not found; install it with: apt-get install -y mariadb-server" >&2
    exit 1
  fi
done
export PATH="$PATH:/usr/sbin"

database=${MARIADB_DATABASE:-faces}
user=${MARIADB_USER:-faces}
password=${MARIADB_PASSWORD:-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}
case "$database$user" in *[!A-Za-z0-9_]*)
  echo "start_mariadb.sh: database and user names must be letters, digits, underscores" >&2; exit 2 ;;
esac
owned_dir=0
if [ -z "$dir" ]; then dir=$(mktemp -d -t mariadb.XXXXXX); owned_dir=1; fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ "$port" = 0 ]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
socket="$dir/mariadb.sock"
os_user=$(id -un)
client=(--no-defaults --protocol=socket --socket="$socket" --user=root)

if [ ! -d "$dir/data/mysql" ]; then
  mariadb-install-db --no-defaults --user="$os_user" --datadir="$dir/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
    || { echo "start_mariadb.sh: mariadb-install-db failed:" >&2; tail -20 "$dir/install.log" >&2; exit 1; }
fi

mariadbd --no-defaults --user="$os_user" --datadir="$dir/data" --socket="$socket" \
  --pid-file="$dir/mariadb.pid" --log-error="$dir/error.log" --bind-address=127.0.0.1 --port="$port" \
  --skip-name-resolve --innodb-buffer-pool-size=64M --innodb-use-native-aio=0 &
server=$!

stop() {
  trap - TERM INT EXIT
  if kill -0 "$server" 2>/dev/null; then
    mariadb-admin "${client[@]}" shutdown 2>/dev/null || kill -TERM "$server"
    wait "$server" 2>/dev/null || true
  fi
  if [ "$owned_dir" = 1 ]; then rm -rf "$dir"; fi
}
trap stop EXIT
trap 'exit 0' TERM INT

for _ in $(seq 300); do
  mariadb-admin "${client[@]}" --connect-timeout=1 ping >/dev/null 2>&1 && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "start_mariadb.sh: mariadbd exited:" >&2; tail -20 "$dir/error.log" >&2; exit 1
  fi
  sleep 0.1
done
mariadb-admin "${client[@]}" ping >/dev/null \
  || { echo "start_mariadb.sh: mariadbd not answering after 30 s" >&2; tail -20 "$dir/error.log" >&2; exit 1; }

quoted=${password//\\/\\\\}
quoted=${quoted//\'/\\\'}
mariadb "${client[@]}" <<SQL
CREATE DATABASE IF NOT EXISTS \`$database\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$quoted';
CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$quoted';
GRANT ALL PRIVILEGES ON \`$database\`.* TO '$user'@'127.0.0.1', '$user'@'localhost';
SQL

echo "mysql://$user:$password@127.0.0.1:$port/$database"
echo "start_mariadb.sh: MariaDB on 127.0.0.1:$port and $socket, data in $dir" >&2
wait "$server"
