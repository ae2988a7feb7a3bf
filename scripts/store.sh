#!/usr/bin/env bash
# The deployed topology on one machine, with local servers: a Kafka-protocol broker (tansu,
# `local_kafka_broker`), a throwaway MariaDB (scripts/start_mariadb.sh), the Pi and server halves
# (launch/store.launch.yaml) and events_to_db (Kafka events -> MySQL); then the store report
# from MySQL. Extra arguments go to the launch file (e.g. source:=/dev/video0 loop:=true).
#
#   bash scripts/store.sh [--keep DIR] [--dry-run] [name:=value ...]
#
# Defaults suit the bundled clip: analytics mode (max_frame_age_s:=0.0, every frame analysed).
# The face gallery and the event databases are kept together or not at all, so the report never
# counts a known face as a new customer (a kept gallery, a fresh database) nor gives an old ID to
# somebody new (a fresh gallery, a kept database):
# - by default both are fresh: the gallery, MariaDB and the server sink's SQLite file live in a
#   temporary directory and go when the script ends, as the in-memory broker's topics do. A
#   rehearsal of the deployment on one machine keeps no biometric data behind.
# - --keep DIR keeps both in DIR: DIR/gallery.sqlite, the MariaDB data in DIR/mariadb (its
#   password in DIR/mariadb.password, readable by the owner only), DIR/server_events.sqlite; the
#   next run with the same DIR recognises the faces the database already holds. A DIR holding a
#   gallery without a database, or the reverse, is refused. Erase a face with face_erase ID
#   --gallery DIR/gallery.sqlite --database mysql://... (the DSN is printed at start).
# --dry-run prints where the gallery and the databases would be, and exits.
# Needs Debian's mariadb-server (apt-get install -y mariadb-server).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keep="" dry_run=0 launch_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) [ $# -ge 2 ] || { echo "store.sh: --keep needs a directory" >&2; exit 2; }
      keep=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    gallery:=* | database:=*)
      echo "store.sh: $1 would split the gallery from its database; use --keep DIR" >&2; exit 2 ;;
    *) launch_args+=("$1"); shift ;;
  esac
done
if [ -n "$keep" ]; then
  state=$(realpath -m "$keep")
  if [ -f "$state/gallery.sqlite" ] && [ ! -d "$state/mariadb/data" ]; then
    echo "store.sh: $state holds a gallery but no database: they are kept together (remove the gallery or restore the database)" >&2
    exit 2
  fi
  if [ ! -f "$state/gallery.sqlite" ] && [ -d "$state/mariadb/data" ]; then
    echo "store.sh: $state holds a database but no gallery: they are kept together (remove the database or restore the gallery)" >&2
    exit 2
  fi
  kept="kept in $state"
else
  state="" kept="fresh for this run, deleted at its end"
fi
if [ "$dry_run" = 1 ]; then
  where=${state:-<temporary directory>}
  echo "store.sh: gallery and databases $kept"
  echo "gallery: $where/gallery.sqlite"
  echo "mariadb: $where/mariadb"
  echo "server sink: $where/server_events.sqlite"
  exit 0
fi
[ -z "$state" ] || mkdir -p "$state"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
BIN=${VENV:-$ROOT/.venv}/bin
mkdir -p out
work=$(mktemp -d -t store.XXXXXX)
state=${state:-$work}
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
if [ -n "$keep" ]; then
  # start_mariadb.sh creates its user once, so a kept database keeps its first password.
  if [ ! -f "$state/mariadb.password" ]; then
    (umask 077 && od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$state/mariadb.password")
  fi
  MARIADB_PASSWORD=$(cat "$state/mariadb.password")
  export MARIADB_PASSWORD
fi
start_server mariadb bash scripts/start_mariadb.sh --dir "$state/mariadb"
dsn=$server_line
# The password travels in the environment only, never on a command line (ps) or in a log.
password=${dsn#mysql://*:}
password=${password%%@*}
export FACE_DB_PASSWORD=$password
database=${dsn/:$password@/@}
echo "store.sh: Kafka on $broker, MariaDB at $database, gallery $state/gallery.sqlite ($kept); logs in out/"

sink_args=(--bootstrap-servers "$broker" --database "$database" --session-timeout-ms 6000)
"$BIN/events_to_db" "${sink_args[@]}" >out/events_to_db.log 2>&1 &
sink=$!
pids+=("$sink")
# Ctrl-C stops the graph (graph_launch handles it), then the script still drains and reports.
# The camera's end starts the stop; the grace lets the server catch up until the sink, idle, ends it.
trap ':' INT
"$BIN/graph_launch" --shutdown-grace 60 launch/store.launch.yaml broker:="$broker" max_frame_age_s:=0.0 \
  gallery:="$state/gallery.sqlite" database:="$state/server_events.sqlite" ${launch_args[@]+"${launch_args[@]}"}
trap 'exit 130' INT

# The graph is done: stop the live sink, then drain what it had not consumed yet (a catch-up run
# resumes from the committed offsets and exits once the events topic is idle).
kill -TERM "$sink" 2>/dev/null || true
wait "$sink" || true
"$BIN/events_to_db" "${sink_args[@]}" --exit-when-idle-s 3 >>out/events_to_db.log 2>&1
grep "stats:" out/events_to_db.log | tail -1
"$BIN/face_report" --database "$database" --plots-dir out/report
