# Shared by scripts/services.sh, scripts/images.sh and scripts/cluster.sh (sourced after setting SCRIPT_TAG): messages on
# stderr tagged with the script's name, and the root check before installing Debian packages.
log() { printf '[%s] %s\n' "$SCRIPT_TAG" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$SCRIPT_TAG" "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = "0" ]; }
