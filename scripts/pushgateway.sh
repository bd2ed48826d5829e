#!/usr/bin/env bash
# The Prometheus Pushgateway the live monitor pushes its gauges to (`trainer monitor` with
# MONITOR_PUSHGATEWAY_URL), built from source for the tests that check a real push.
#
#   scripts/pushgateway.sh build      build (or reuse) the pinned version; prints nothing on success
#   scripts/pushgateway.sh built      exit 0 when it is already cached (no build)
#   scripts/pushgateway.sh buildable  exit 0 when it is cached or Go can build it (any Go fetches 1.26)
#   scripts/pushgateway.sh path       print the binary's path (exit 1 when it is not built)
#
# Built through the Go module proxy (no release download) and cached under
# ${XDG_CACHE_HOME:-~/.cache}/fallback-ctr/pushgateway-<version>/. Cold build ≈ 30 CPU-seconds plus the
# module download; the binary is 15 MB. Whoever starts it picks the port (loopback only).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PUSHGATEWAY_VERSION="v1.11.1"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/fallback-ctr"
BIN_DIR="$CACHE_ROOT/pushgateway-$PUSHGATEWAY_VERSION"

SCRIPT_TAG=pushgateway
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"
GO_PURPOSE="the Pushgateway"
# shellcheck source=lib/go.sh
source "$ROOT/scripts/lib/go.sh"

built() { [ -f "$BIN_DIR/.complete" ] && [ -x "$BIN_DIR/pushgateway" ]; }

# `go install module@version` asks the proxy for the module's version list (for deprecations), which
# the proxy here refuses; a wrapper module that requires the pinned version builds it without that.
cmd_build() {
  built && return
  mkdir -p "$CACHE_ROOT"
  # One build at a time per cache: a second caller waits and reuses it.
  exec {build_lock}>"$CACHE_ROOT/.pushgateway-build.lock"
  flock "$build_lock"
  if built; then exec {build_lock}>&-; return; fi
  require_go
  local started=$SECONDS work="$CACHE_ROOT/src/pushgateway-$PUSHGATEWAY_VERSION"
  log "building the Pushgateway $PUSHGATEWAY_VERSION from the Go module proxy"
  rm -rf "$work" "$BIN_DIR.partial"
  mkdir -p "$work" "$BIN_DIR.partial"
  printf 'module fallbackctr.local/pushgateway-build\n\ngo 1.%s\n\nrequire github.com/prometheus/pushgateway %s\n' \
    "$GO_MIN_MINOR" "$PUSHGATEWAY_VERSION" >"$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/prometheus/pushgateway"\n' >"$work/tools.go"
  (
    cd "$work"
    go mod tidy >/dev/null 2>&1 || go mod tidy
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${PUSHGATEWAY_VERSION#v}" \
      -o "$BIN_DIR.partial/pushgateway" github.com/prometheus/pushgateway
  )
  publish_bin_dir "$BIN_DIR.partial" "$BIN_DIR"
  exec {build_lock}>&-
  log "built in $((SECONDS - started)) s: $BIN_DIR/pushgateway"
}

case "${1:-}" in
  build) cmd_build ;;
  built) built ;;
  buildable) built || go_available ;;
  path) built && echo "$BIN_DIR/pushgateway" ;;
  *) echo "usage: $0 build|built|buildable|path" >&2; exit 2 ;;
esac
