#!/usr/bin/env bash
# The deployed topology on one machine, with local servers: a Kafka-protocol broker (tansu,
# `local_kafka_broker`), a throwaway MariaDB (scripts/start_mariadb.sh), the Pi and server halves
# (launch/store.launch.yaml) and events_to_db (Kafka events -> MySQL); then the store report
# from MySQL. Extra arguments go to the launch file (e.g. source:=/dev/video0 loop:=true).
#
#   bash scripts/store.sh [name:=value ...]
#
# Defaults suit the bundled clip: analytics mode (max_frame_age_s:=0.0, every frame analysed).
# The broker keeps its data in memory and MariaDB lives in a temporary directory: both go when
# the script ends. Needs Debian's mariadb-server (apt-get install -y mariadb-server).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
BIN=${VENV:-$ROOT/.venv}/bin
mkdir -p out
work=$(mktemp -d -t store.XXXXXX)
pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME COMMAND...: run it in the background and wait for the address it prints as
# its first stdout line (a broker address, a DSN), left in $server_line.
start_server() {
  local name=$1 out=$work/$1.out
  shift
  "$@" >"$out" 2>>out/store_servers.log &
  pids+=($!)
  for _ in $(seq 600); do
    if [ -s "$out" ] && [ -z "$(tail -c1 "$out")" ]; then  # a whole line is there
      server_line=$(head -n1 "$out")
      return 0
    fi
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "store.sh: $name did not start; see out/store_servers.log" >&2
  exit 1
}

: >out/store_servers.log
start_server broker "$BIN/local_kafka_broker"
broker=$server_line
start_server mariadb bash scripts/start_mariadb.sh --dir "$work/mariadb"
dsn=$server_line
# The password travels in the environment only, never on a command line (ps) or in a log.
password=${dsn#mysql://*:}
password=${password%%@*}
export FACE_DB_PASSWORD=$password
database=${dsn/:$password@/@}
echo "store.sh: Kafka on $broker, MariaDB at $database; logs in out/"

sink_args=(--bootstrap-servers "$broker" --database "$database" --session-timeout-ms 6000)
"$BIN/events_to_db" "${sink_args[@]}" >out/events_to_db.log 2>&1 &
sink=$!
pids+=("$sink")
# Ctrl-C stops the graph (graph_launch handles it), then the script still drains and reports.
# The camera's end starts the stop; the grace lets the server catch up until the sink, idle, ends it.
trap ':' INT
"$BIN/graph_launch" --shutdown-grace 60 launch/store.launch.yaml broker:="$broker" max_frame_age_s:=0.0 "$@"
trap 'exit 130' INT

# The graph is done: stop the live sink, then drain what it had not consumed yet (a catch-up run
# resumes from the committed offsets and exits once the events topic is idle).
kill -TERM "$sink" 2>/dev/null || true
wait "$sink" || true
"$BIN/events_to_db" "${sink_args[@]}" --exit-when-idle-s 3 >>out/events_to_db.log 2>&1
grep "stats:" out/events_to_db.log | tail -1
"$BIN/face_report" --database "$database" --plots-dir out/report
