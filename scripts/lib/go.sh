# Go for the tools scripts/cluster.sh and scripts/pushgateway.sh build from the Go module proxy (sourced
# after scripts/lib/common.sh; GO_PURPOSE names what is being built, for the error message).
# Kubernetes, etcd and kwok at their pinned versions all say `go 1.26.0` in their go.mod.
GO_MIN_MINOR=26
# Fetched through the Go module proxy (as the module golang.org/toolchain, the way `go` itself
# switches toolchains) when no Go >= 1.26 is installed but an older one is, e.g. Debian's 1.19.
GO_TOOLCHAIN="go1.26.8"
# Kept where scripts/cluster.sh first cached it.
GO_TOOLCHAIN_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/fallback-ctr/cluster/$GO_TOOLCHAIN"

# Exit 0 when the go binary $1 is Go >= 1.$GO_MIN_MINOR.
go_version_ok() {
  local version
  version=$(GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null) || return 1
  version="${version#go}"
  [ "${version%%.*}" = "1" ] || return 1
  version="${version#1.}"
  [ "${version%%[!0-9]*}" -ge "$GO_MIN_MINOR" ] 2>/dev/null
}

# Puts a Go >= 1.26 first on PATH: the one on PATH, /usr/local/go's, or the toolchain cached here.
find_go() {
  local candidate
  for candidate in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "$GO_TOOLCHAIN_DIR/bin/go"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && go_version_ok "$candidate"; then
      PATH="$(dirname "$candidate"):$PATH"
      export GOTOOLCHAIN=local
      return 0
    fi
  done
  return 1
}

fetch_go_toolchain() {
  local old_go arch work dir
  old_go=$(command -v go 2>/dev/null) || return 1
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) return 1 ;;
  esac
  log "fetching the Go toolchain $GO_TOOLCHAIN through the module proxy (found only $("$old_go" env GOVERSION))"
  work=$(mktemp -d)
  dir=$(cd "$work" && GO111MODULE=on GOFLAGS=-modcacherw GOPATH="$work/gopath" GOTOOLCHAIN=local \
    "$old_go" mod download -json "golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-$arch" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') || true
  if [ -z "$dir" ] || [ ! -f "$dir/bin/go" ]; then
    rm -rf "$work"
    return 1
  fi
  rm -rf "$GO_TOOLCHAIN_DIR.partial"
  mkdir -p "$(dirname "$GO_TOOLCHAIN_DIR")"
  cp -R "$dir" "$GO_TOOLCHAIN_DIR.partial"
  rm -rf "$work"
  # Module zips keep no file modes: make the tools executable again, as `go` does when it switches.
  chmod -R u+w "$GO_TOOLCHAIN_DIR.partial"
  chmod +x "$GO_TOOLCHAIN_DIR.partial"/bin/* "$GO_TOOLCHAIN_DIR.partial"/pkg/tool/*/*
  rm -rf "$GO_TOOLCHAIN_DIR"
  mv "$GO_TOOLCHAIN_DIR.partial" "$GO_TOOLCHAIN_DIR"
}

# Exit 0 when a Go able to build the pinned tools is at hand, or can be fetched by the one there is.
go_available() {
  find_go || command -v go >/dev/null 2>&1
}

require_go() {
  find_go && return
  fetch_go_toolchain && find_go && return
  die "Go >= 1.$GO_MIN_MINOR is required to build ${GO_PURPOSE:-the pinned tools} (https://go.dev/dl/, or Debian's golang-go to fetch it with); found: $(go env GOVERSION 2>/dev/null || echo none)"
}

# Every build goes to a fresh folder and is moved into the cache only when complete, so an
# interrupted build never leaves a half-filled cache entry behind.
publish_bin_dir() {
  local staging="$1" target="$2"
  touch "$staging/.complete"
  rm -rf "$target"
  mv "$staging" "$target"
}
