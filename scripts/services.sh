#!/usr/bin/env bash
# Real PostgreSQL and a real MLflow tracking server on loopback, for tests and local runs.
#
#   scripts/services.sh up       start both (idempotent: reuses what is running and healthy)
#   scripts/services.sh down     stop both
#   scripts/services.sh status   say what is running
#   scripts/services.sh env      print the export lines for DATABASE_URL and MLFLOW_TRACKING_URI
#   scripts/services.sh venv     create/refresh the pinned Python virtualenv only
#
# PostgreSQL comes from Debian's packages (installed when missing), MLflow from PyPI into the
# project-local virtualenv .venv (pinned in scripts/requirements.txt). Data lives under .data/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="${FALLBACK_CTR_DATA_DIR:-$ROOT/.data}"
PG_PORT="${FALLBACK_CTR_PG_PORT:-55432}"
MLFLOW_PORT="${FALLBACK_CTR_MLFLOW_PORT:-55000}"
VENV="${FALLBACK_CTR_VENV:-$ROOT/.venv}"
REQUIREMENTS="$ROOT/scripts/requirements.txt"
LOG_DIR="$DATA_DIR/logs"
MLFLOW_PID_FILE="$DATA_DIR/mlflow.pid"
MLFLOW_ARTIFACTS="$DATA_DIR/mlflow-artifacts"
APP_DB="fallback_ctr"
MLFLOW_DB="mlflow"

DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$APP_DB"
MLFLOW_BACKEND_URI="postgresql+psycopg2://postgres@127.0.0.1:$PG_PORT/$MLFLOW_DB"
MLFLOW_TRACKING_URI="http://127.0.0.1:$MLFLOW_PORT"

SCRIPT_TAG=services
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return; }
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return; }
  return 1
}

ensure_postgres_installed() {
  pg_bin_dir >/dev/null && return
  is_root || die "PostgreSQL is not installed; run: sudo apt-get install -y postgresql"
  log "installing PostgreSQL from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pg_bin_dir >/dev/null || die "PostgreSQL install finished but pg_ctl was not found"
}

# The server refuses to run as root, so as root it runs as the postgres user. That user must be
# able to reach the data directory; when the checkout lives somewhere it cannot traverse, the
# cluster goes to a per-checkout folder under /tmp instead.
pg_data_dir() {
  local preferred="$DATA_DIR/pg"
  if is_root; then
    mkdir -p "$DATA_DIR"
    if ! runuser -u postgres -- test -x "$DATA_DIR" 2>/dev/null; then
      local key
      key=$(printf '%s' "$DATA_DIR" | sha256sum | cut -c1-12)
      echo "/tmp/fallback-ctr-$key/pg"
      return
    fi
  fi
  echo "$preferred"
}

as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Health checks allow a few seconds: on a busy machine a healthy server can be slow to answer.
pg_ready() {
  PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc 'SELECT 1' >/dev/null 2>&1
}

pid_alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}

# A postmaster killed with SIGKILL leaves postmaster.pid and the socket lock file behind. Once the
# recorded pid is gone (or a zombie) they are stale and can go.
clear_stale_postmaster_files() {
  local dir="$1" pid="" i f
  local files=("$dir/postmaster.pid" "$dir/.s.PGSQL.$PG_PORT.lock")
  for f in "${files[@]}"; do
    [ -f "$f" ] && { pid=$(head -n 1 "$f"); break; }
  done
  [ -n "$pid" ] || return 0
  for i in $(seq 1 40); do pid_alive "$pid" || break; sleep 0.25; done
  if pid_alive "$pid"; then
    die "a PostgreSQL process (pid $pid) holds $dir but does not answer on 127.0.0.1:$PG_PORT; stop it or run: $0 down"
  fi
  rm -f "${files[@]}" "$dir/.s.PGSQL.$PG_PORT"
  log "removed stale lock files of a PostgreSQL that died (pid $pid)"
}

start_postgres() {
  ensure_postgres_installed
  local bin pgdata
  bin=$(pg_bin_dir)
  pgdata=$(pg_data_dir)
  if pg_ready; then
    log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    mkdir -p "$pgdata" "$LOG_DIR"
    if is_root; then chown postgres:postgres "$pgdata"; chmod 700 "$pgdata"; fi
    if [ ! -f "$pgdata/PG_VERSION" ]; then
      log "initialising a PostgreSQL cluster in $pgdata"
      as_pg "$bin/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --no-locale >/dev/null
    fi
    clear_stale_postmaster_files "$pgdata"
    local pglog="$pgdata/../postgres.log"
    touch "$pglog"; is_root && chown postgres:postgres "$pglog"
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$pgdata" -l "$pglog" -w -t 300 start \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $pgdata -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null || { tail -n 20 "$pglog" >&2; die "PostgreSQL did not start (log: $pglog)"; }
  fi
  local deadline=$((SECONDS + 120))
  until pg_ready || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.5; done
  pg_ready || die "PostgreSQL is not answering SELECT 1 on 127.0.0.1:$PG_PORT"
  local db
  for db in "$APP_DB" "$MLFLOW_DB"; do
    if [ "$(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
      psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE $db" >/dev/null
      log "created database $db"
    fi
  done
}

stop_postgres() {
  local bin pgdata
  bin=$(pg_bin_dir) || return 0
  pgdata=$(pg_data_dir)
  [ -f "$pgdata/postmaster.pid" ] || { log "PostgreSQL is not running"; return 0; }
  as_pg "$bin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true
  log "PostgreSQL stopped"
}

# uv (from PyPI, a pinned wheel) installs the same pins as pip many times faster; pip is the fallback.
UV_VERSION="0.13.8"

ensure_venv() {
  local want have="" started
  want=$(sha256sum "$REQUIREMENTS" | cut -c1-64)
  [ -f "$VENV/.requirements.sha256" ] && have=$(cat "$VENV/.requirements.sha256")
  if [ -x "$VENV/bin/mlflow" ] && [ "$want" = "$have" ]; then return; fi
  command -v python3 >/dev/null || die "python3 is required for the MLflow server"
  started=$SECONDS
  log "installing MLflow and the pinned Python requirements into $VENV (first time only)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  if [ ! -x "$VENV/bin/uv" ]; then
    log "  getting uv $UV_VERSION from PyPI (a fast installer for the same pins)"
    "$VENV/bin/pip" install -q --disable-pip-version-check "uv==$UV_VERSION" >&2 || log "  uv unavailable: using pip"
  fi
  if [ -x "$VENV/bin/uv" ]; then
    "$VENV/bin/uv" pip install --python "$VENV/bin/python" -r "$REQUIREMENTS" >&2
  else
    log "  pip install -r $REQUIREMENTS (a few minutes, no output until done)"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQUIREMENTS" >&2
  fi
  echo "$want" >"$VENV/.requirements.sha256"
  log "Python virtualenv ready in $((SECONDS - started)) s"
}

mlflow_healthy() {
  curl -sf -m 5 "$MLFLOW_TRACKING_URI/health" >/dev/null 2>&1
}

stop_mlflow() {
  if [ ! -f "$MLFLOW_PID_FILE" ]; then
    log "MLflow is not running (no pid file)"
    return 0
  fi
  # The server runs in its own session (setsid), so its pid is also its process-group id: signal the
  # group, which reaches the uvicorn workers even when the leader has already died.
  local pgid i
  pgid=$(cat "$MLFLOW_PID_FILE")
  if kill -0 -- "-$pgid" 2>/dev/null; then
    kill -TERM -- "-$pgid" 2>/dev/null || true
    for i in $(seq 1 40); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
    log "MLflow stopped"
  fi
  rm -f "$MLFLOW_PID_FILE"
}

start_mlflow() {
  ensure_venv
  if mlflow_healthy; then
    log "MLflow already running on $MLFLOW_TRACKING_URI"
    return
  fi
  stop_mlflow >/dev/null 2>&1 || true
  mkdir -p "$MLFLOW_ARTIFACTS" "$LOG_DIR"
  log "starting MLflow on $MLFLOW_TRACKING_URI (backend: PostgreSQL database $MLFLOW_DB)"
  # The job runner (huey consumers, ~1.5 GB) serves GenAI features fallback-ctr does not use.
  MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false setsid "$VENV/bin/mlflow" server \
    --backend-store-uri "$MLFLOW_BACKEND_URI" \
    --artifacts-destination "$MLFLOW_ARTIFACTS" \
    --serve-artifacts \
    --host 127.0.0.1 --port "$MLFLOW_PORT" --workers 2 \
    >"$LOG_DIR/mlflow.log" 2>&1 </dev/null &
  echo $! >"$MLFLOW_PID_FILE"
  # MLflow imports for 10-30 s on an idle machine, minutes on a loaded one: wait on its health, within a deadline.
  local deadline=$((SECONDS + ${FALLBACK_CTR_MLFLOW_START_SECONDS:-600}))
  while [ "$SECONDS" -lt "$deadline" ]; do
    mlflow_healthy && { log "MLflow is healthy"; return; }
    kill -0 "$(cat "$MLFLOW_PID_FILE")" 2>/dev/null || break
    sleep 0.5
  done
  tail -n 30 "$LOG_DIR/mlflow.log" >&2 || true
  die "MLflow did not become healthy (log: $LOG_DIR/mlflow.log)"
}

print_env() {
  echo "export DATABASE_URL=$DATABASE_URL"
  echo "export MLFLOW_TRACKING_URI=$MLFLOW_TRACKING_URI"
  echo "export FALLBACK_CTR_PYTHON=$VENV/bin/python"
}

status() {
  if pg_ready; then echo "postgres: up   $DATABASE_URL"; else echo "postgres: down"; fi
  if mlflow_healthy; then echo "mlflow:   up   $MLFLOW_TRACKING_URI"; else echo "mlflow:   down"; fi
}

command -v curl >/dev/null || die "curl is required"
case "${1:-}" in
  up)
    start_postgres
    start_mlflow
    echo "PostgreSQL: $DATABASE_URL"
    echo "MLflow:     $MLFLOW_TRACKING_URI  (UI and REST API)"
    ;;
  down) stop_mlflow; stop_postgres ;;
  status) status ;;
  env) print_env ;;
  venv) ensure_venv; echo "[services] Python virtualenv ready: $VENV" >&2 ;;
  *) echo "usage: $0 up|down|status|env|venv" >&2; exit 2 ;;
esac
