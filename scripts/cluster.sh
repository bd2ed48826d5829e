#!/usr/bin/env bash
# A real, local Kubernetes control plane on loopback, as the project's test harness.
#
#   scripts/cluster.sh build    build (or reuse) the pinned binaries; nothing is started
#   scripts/cluster.sh up       build if needed, then start etcd, kube-apiserver, controller-manager,
#                               scheduler and kwok (the fake kubelet) with one fake node; idempotent
#   scripts/cluster.sh down     stop everything `up` started and delete the cluster's state
#   scripts/cluster.sh status   say what is running
#   scripts/cluster.sh env      print the export line for KUBECONFIG (the admin kubeconfig)
#   scripts/cluster.sh built    exit 0 when the binaries are already cached (no build)
#   scripts/cluster.sh buildable  exit 0 when they are cached or Go can build them (any Go fetches 1.26)
#   scripts/cluster.sh running  exit 0 when every component runs and the API server is ready
#
# The binaries are built from source through the Go module proxy (no registry or release download
# needed) and cached under ${XDG_CACHE_HOME:-~/.cache}/fallback-ctr/cluster/<component>-<version>/.
# Cold build ≈ 1,450 CPU-seconds (≈ 15 min on 2 idle cores); warm start ≈ 10 s.
# kwok marks pods Ready without running them: images, probes and Secrets are not exercised here
# (scripts/images.sh does that with a real container engine).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
K8S_VERSION="v1.37.2"
ETCD_VERSION="v3.7.3"
KWOK_VERSION="v0.8.0"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/fallback-ctr/cluster"
K8S_BIN="$CACHE_ROOT/kubernetes-$K8S_VERSION"
KUBECTL_BIN="$CACHE_ROOT/kubectl-$K8S_VERSION"
ETCD_BIN="$CACHE_ROOT/etcd-$ETCD_VERSION"
KWOK_BIN="$CACHE_ROOT/kwok-$KWOK_VERSION"
CLUSTER_DIR="${FALLBACK_CTR_CLUSTER_DIR:-$ROOT/.data/cluster}"
# Six consecutive loopback ports, derived from the PostgreSQL port so parallel checkouts differ.
PORT_BASE="${FALLBACK_CTR_CLUSTER_PORT:-$(( ${FALLBACK_CTR_PG_PORT:-55432} - 10000 ))}"
APISERVER_PORT="$PORT_BASE"
ETCD_PORT=$((PORT_BASE + 1))
ETCD_PEER_PORT=$((PORT_BASE + 2))
CM_PORT=$((PORT_BASE + 3))
SCHED_PORT=$((PORT_BASE + 4))
KWOK_PORT=$((PORT_BASE + 5))
NODE_NAME="kwok-node-0"
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

SCRIPT_TAG=cluster
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------

# Kubernetes, etcd and kwok at these versions all say `go 1.26.0` in their go.mod (scripts/lib/go.sh
# finds or fetches a Go that new).
GO_PURPOSE="the control plane"
# shellcheck source=lib/go.sh
source "$ROOT/scripts/lib/go.sh"

go_build_flags() {
  local minor="${K8S_VERSION#v1.}"
  minor="${minor%%.*}"
  printf '%s' "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitTreeState=clean"
}

# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces its staging modules with local
# folders. A wrapper module requires it and replaces each staging module by its published release
# (v0.X.Y for Kubernetes v1.X.Y). build_kubernetes_commands <cache folder> <command>...
build_kubernetes_commands() {
  local target="$1" name="${1##*/}"
  shift
  [ -f "$target/.complete" ] && return
  require_go
  local work staging_version="v0.${K8S_VERSION#v1.}" cmd
  work="$CACHE_ROOT/src/$name"
  rm -rf "$work" "$target.partial"
  mkdir -p "$work" "$target.partial"
  log "building $* $K8S_VERSION from the Go module proxy"
  local upstream_mod
  upstream_mod=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$upstream_mod" ] || die "could not download k8s.io/kubernetes@$K8S_VERSION's go.mod"
  {
    echo "module fallbackctr.local/$name-build"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    # Each staging module replaced upstream by ./staging/src/<module> (sample-* have no release
    # and are not imported by the commands built here).
    sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$upstream_mod" |
      grep -v '/sample-' | sort -u |
      while read -r module; do echo "replace $module => $module $staging_version"; done
  } >"$work/go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for cmd in "$@"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$cmd"; done
    printf ')\n'
  } >"$work/tools.go"
  (
    cd "$work"
    # tidy considers every build tag, so the tools file's imports are resolved too.
    go mod tidy
    for cmd in "$@"; do
      log "  go build $cmd"
      CGO_ENABLED=0 go build -trimpath -ldflags "$(go_build_flags)" -o "$target.partial/$cmd" "k8s.io/kubernetes/cmd/$cmd"
    done
  )
  publish_bin_dir "$target.partial" "$target"
}

build_kubernetes() {
  build_kubernetes_commands "$K8S_BIN" kube-apiserver kube-controller-manager kube-scheduler
}

# kubectl from the same release when none is installed (Debian's kubernetes-client is 1.20, too old
# for --validate=strict and this server).
build_kubectl() {
  command -v kubectl >/dev/null 2>&1 && return
  build_kubernetes_commands "$KUBECTL_BIN" kubectl
}

# Debian's etcd (3.4) lacks RequestWatchProgress, which kwok's watches need; etcd's own root
# module carries replace directives, so a three-line main around etcdmain is built instead.
build_etcd() {
  [ -f "$ETCD_BIN/.complete" ] && return
  require_go
  local work="$CACHE_ROOT/src/etcd-$ETCD_VERSION"
  rm -rf "$work" "$ETCD_BIN.partial"
  mkdir -p "$work" "$ETCD_BIN.partial"
  log "building etcd $ETCD_VERSION"
  cat >"$work/main.go" <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (
    cd "$work"
    go mod init fallbackctr.local/etcd-build >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
    go mod tidy >/dev/null
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ETCD_BIN.partial/etcd" .
  )
  publish_bin_dir "$ETCD_BIN.partial" "$ETCD_BIN"
}

build_kwok() {
  [ -f "$KWOK_BIN/.complete" ] && return
  require_go
  rm -rf "$KWOK_BIN.partial"
  mkdir -p "$KWOK_BIN.partial"
  log "building kwok $KWOK_VERSION"
  CGO_ENABLED=0 GOBIN="$KWOK_BIN.partial" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok does nothing without Stages; the module ships them as kustomize resources.
  local module_dir
  module_dir=$(cd "$CACHE_ROOT" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  mkdir -p "$KWOK_BIN.partial/stages"
  local stage
  for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
    pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    cp "$module_dir/kustomize/stage/$stage.yaml" "$KWOK_BIN.partial/stages/"
  done
  publish_bin_dir "$KWOK_BIN.partial" "$KWOK_BIN"
}

binaries_built() {
  [ -f "$K8S_BIN/.complete" ] && [ -f "$ETCD_BIN/.complete" ] && [ -f "$KWOK_BIN/.complete" ] &&
    { command -v kubectl >/dev/null 2>&1 || [ -f "$KUBECTL_BIN/.complete" ]; }
}

# The installed kubectl, else the one built here.
kubectl_path() {
  command -v kubectl 2>/dev/null || echo "$KUBECTL_BIN/kubectl"
}

cmd_build() {
  local started=$SECONDS
  binaries_built && { log "binaries cached under $CACHE_ROOT"; return; }
  mkdir -p "$CACHE_ROOT"
  # The cache is shared by every checkout of the user: one build at a time; who waits reuses it.
  exec {build_lock}>"$CACHE_ROOT/.build.lock"
  if ! flock -n "$build_lock"; then
    log "another build of the control plane is running (lock $CACHE_ROOT/.build.lock); waiting for it"
    flock "$build_lock"
  fi
  binaries_built && { exec {build_lock}>&-; log "binaries cached under $CACHE_ROOT"; return; }
  build_etcd
  build_kwok
  build_kubernetes
  build_kubectl
  exec {build_lock}>&-
  log "built in $((SECONDS - started)) s; cached under $CACHE_ROOT"
}

# ---------------------------------------------------------------------------------------------
# up / down / status
# ---------------------------------------------------------------------------------------------

PKI="$CLUSTER_DIR/pki"
PID_DIR="$CLUSTER_DIR/pids"
LOG_DIR="$CLUSTER_DIR/logs"
ADMIN_KUBECONFIG="$CLUSTER_DIR/admin.kubeconfig"
SERVER="https://127.0.0.1:$APISERVER_PORT"

pid_alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}

# The pid recorded for a component, when that process still runs that component's binary (a pid
# file left by a crash never names somebody else's process that reused the number).
component_pid() {
  local file="$PID_DIR/$1.pid" pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  pid_alive "$pid" || return 1
  local exe
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  exe="${exe% (deleted)}"
  [ "${exe##*/}" = "$1" ] || return 1
  echo "$pid"
}

# One certificate signed by the cluster CA: sign_cert <name> <subject> [subjectAltName]
sign_cert() {
  local name="$1" subject="$2" san="${3:-}"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$name.key" -subj "$subject" -out "$PKI/$name.csr" 2>/dev/null
  local ext="$PKI/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$san" ]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$san"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$ext"
}

# Kept across down/up (making them is half of a cold start); regenerated when missing.
ensure_pki() {
  [ -f "$PKI/.complete" ] && return
  log "making the cluster CA and certificates"
  rm -rf "$PKI"
  mkdir -p "$PKI"
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -subj "/CN=fallback-ctr-local-ca" \
    -days 3650 -sha256 -out "$PKI/ca.crt" 2>/dev/null
  sign_cert apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  sign_cert admin "/O=system:masters/CN=fallback-ctr-admin"
  sign_cert controller-manager "/CN=system:kube-controller-manager"
  sign_cert scheduler "/CN=system:kube-scheduler"
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  touch "$PKI/.complete"
}

write_kubeconfig() {
  local file="$1" user="$2"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: fallback-ctr-local
    cluster:
      server: $SERVER
      certificate-authority: $PKI/ca.crt
users:
  - name: $user
    user:
      client-certificate: $PKI/$user.crt
      client-key: $PKI/$user.key
contexts:
  - name: fallback-ctr-local
    context:
      cluster: fallback-ctr-local
      user: $user
current-context: fallback-ctr-local
EOF
}

write_kwok_config() {
  local file="$CLUSTER_DIR/kwok.yaml" stage
  {
    cat <<'EOF'
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  # kwok refuses to start without these.
  podPlayStageParallelism: 4
  nodePlayStageParallelism: 2
  nodeLeaseDurationSeconds: 40
  nodeLeaseParallelism: 2
  podsOnNodeSyncParallelism: 2
EOF
    for stage in "$KWOK_BIN"/stages/*.yaml; do
      echo "---"
      cat "$stage"
    done
  } >"$file"
}

start_component() {
  local name="$1"
  shift
  if component_pid "$name" >/dev/null; then return; fi
  # setsid: its own session, so a Ctrl-C in this terminal reaches only this script, which then
  # stops it deliberately.
  # The lock of this folder is not handed down: a daemon holding it would block every later up/down.
  setsid "$@" >"$LOG_DIR/$name.log" 2>&1 </dev/null {cluster_lock}>&- &
  echo $! >"$PID_DIR/$name.pid"
  STARTED+=("$name")
}

wait_until() {
  local what="$1" seconds="$2" name="$3"
  shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$name" ] && ! component_pid "$name" >/dev/null; then
      tail -n 20 "$LOG_DIR/$name.log" >&2 || true
      die "$name exited while waiting for $what (log: $LOG_DIR/$name.log)"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${seconds}s waiting for $what"
    sleep 0.5
  done
}

kubectl_admin() { "$(kubectl_path)" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

apiserver_ready() { kubectl_admin get --raw /readyz; }
node_ready() {
  [ "$(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = "True" ]
}
default_service_account() { kubectl_admin -n default get serviceaccount default; }

stop_component() {
  local name="$1" pid
  pid=$(component_pid "$name") || { rm -f "$PID_DIR/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 15))
  while pid_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$PID_DIR/$name.pid"
}

stop_all() {
  local i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_component "${COMPONENTS[$i]}"; done
}

# On failure or Ctrl-C during `up`, stop what this invocation started.
abort_up() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$status" -ne 0 ] && [ ${#STARTED[@]} -gt 0 ]; then
    log "start-up failed or was interrupted; stopping what it started (${STARTED[*]})"
    local i
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_component "${STARTED[$i]}"; done
  fi
  exit "$status"
}

cmd_up() {
  command -v openssl >/dev/null 2>&1 || die "openssl is required"
  STARTED=()
  trap abort_up EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  cmd_build
  local started=$SECONDS
  mkdir -p "$PID_DIR" "$LOG_DIR" "$CLUSTER_DIR/etcd"
  ensure_pki
  write_kubeconfig "$ADMIN_KUBECONFIG" admin
  write_kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" controller-manager
  write_kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" scheduler
  write_kwok_config

  start_component etcd "$ETCD_BIN/etcd" --name default --data-dir "$CLUSTER_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --log-level warn

  start_component kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --secure-port "$APISERVER_PORT" --endpoint-reconciler-type none \
    --authorization-mode Node,RBAC --client-ca-file "$PKI/ca.crt" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 --profiling=false
  wait_until "the API server" 120 kube-apiserver apiserver_ready

  start_component kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$CM_PORT" --leader-elect=false \
    --use-service-account-credentials --service-account-private-key-file "$PKI/sa.key" \
    --root-ca-file "$PKI/ca.crt" --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --profiling=false

  start_component kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false --profiling=false

  start_component kwok "$KWOK_BIN/kwok" --kubeconfig "$ADMIN_KUBECONFIG" --config "$CLUSTER_DIR/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --server-address "127.0.0.1:$KWOK_PORT"

  kubectl_admin apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable: { cpu: "32", memory: 128Gi, pods: "110" }
  capacity: { cpu: "32", memory: 128Gi, pods: "110" }
EOF
  wait_until "the fake node to turn Ready" 120 kwok node_ready
  wait_until "the default ServiceAccount" 120 kube-controller-manager default_service_account
  trap - EXIT INT TERM
  log "up in $((SECONDS - started)) s: $SERVER (admin kubeconfig: $ADMIN_KUBECONFIG)"
}

# One `up` or `down` at a time per cluster folder (a test run and a terminal may both ask).
lock_cluster_dir() {
  mkdir -p "$CLUSTER_DIR"
  exec {cluster_lock}>"$CLUSTER_DIR/.lock"
  flock "$cluster_lock"
}

cmd_down() {
  stop_all
  rm -rf "$CLUSTER_DIR/etcd" "$LOG_DIR" "$PID_DIR"
  log "stopped"
}

cluster_running() {
  local name
  for name in "${COMPONENTS[@]}"; do component_pid "$name" >/dev/null || return 1; done
  apiserver_ready >/dev/null 2>&1
}

cmd_status() {
  local name pid
  for name in "${COMPONENTS[@]}"; do
    if pid=$(component_pid "$name"); then log "$name: running (pid $pid)"; else log "$name: stopped"; fi
  done
  if binaries_built; then log "binaries: cached under $CACHE_ROOT"; else log "binaries: not built yet (cold build ≈ 15 min)"; fi
  cluster_running
}

case "${1:-}" in
  build) cmd_build ;;
  built) binaries_built ;;
  buildable) binaries_built || go_available ;;
  up)
    lock_cluster_dir
    if cluster_running; then log "already up: $SERVER"; else cmd_up; fi
    ;;
  down)
    lock_cluster_dir
    cmd_down
    ;;
  status) cmd_status ;;
  running) cluster_running ;;
  env)
    echo "export KUBECONFIG=$ADMIN_KUBECONFIG"
    command -v kubectl >/dev/null 2>&1 || echo "export PATH=$KUBECTL_BIN:\$PATH"
    ;;
  *) echo "usage: $0 build|built|buildable|up|down|status|running|env" >&2; exit 2 ;;
esac
