#!/usr/bin/env bash
# The main job, on this machine: a Kafka-protocol broker (tansu), the
# Qdrant-protocol test server, connect-host running the qdrant-embedding
# connector from connectors.d/, and e-commerce events streamed through it,
# then semantic queries over what landed in Qdrant.
#
#   scripts/demo.sh                 # 2,000 events, then queries, then stop
#   DEMO_EVENTS=10000 scripts/demo.sh
#   DEMO_KEEP_RUNNING=1 scripts/demo.sh   # leave everything up (Ctrl-C ends)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
# Again: setup may just have installed torch (LIBTORCH, LD_LIBRARY_PATH).
source scripts/env.sh

EVENTS="${DEMO_EVENTS:-2000}"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "building connect-host and the event generator (release)"
cargo build --quiet --release -p connect-host -p event-generator
BIN="$CARGO_TARGET_DIR/release"
QBIN="$(dirname "$QDRANT_TEST_SERVER_BIN")"
DEMO="$(mktemp -d /tmp/connect-host-demo.XXXXXX)"

for port in 9092 6334 8083; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    echo "port $port is in use; stop what listens there (the demo uses Kafka's, Qdrant's and Connect's usual ports)" >&2
    exit 1
  fi
done

pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "demo logs: $DEMO"
}
trap cleanup EXIT
wait_port() { for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; exit 1; }

step "starting tansu (Kafka protocol) on 127.0.0.1:9092"
"$TANSU_BIN" broker --listener-url tcp://127.0.0.1:9092 --advertised-listener-url tcp://127.0.0.1:9092 \
  --storage-engine memory://tansu/ >"$DEMO/tansu.log" 2>&1 &
pids+=($!); wait_port 9092

step "starting the Qdrant test server (gRPC) on 127.0.0.1:6334"
"$QDRANT_TEST_SERVER_BIN" --port 6334 --data-dir "$DEMO/qdrant" >"$DEMO/qdrant.log" 2>&1 &
pids+=($!); wait_port 6334

"$BIN/generate-events" --bootstrap-servers 127.0.0.1:9092 --topic ecommerce-events --create-topic 4 --count 0 >/dev/null

step "starting connect-host on http://127.0.0.1:8083 with connectors.d/"
CONNECT_BOOTSTRAP_SERVERS=127.0.0.1:9092 \
CONNECT_LISTENERS=http://127.0.0.1:8083 \
CONNECT_CONNECTORS_DIR=connectors.d \
CONNECT_CONFIG_STORAGE_FILE_FILENAME="$DEMO/connect-configs.json" \
CONNECT_CONSUMER_SESSION_TIMEOUT_MS=10000 \
  "$BIN/connect-host" >"$DEMO/connect-host.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do curl -fs http://127.0.0.1:8083/health >/dev/null && break; sleep 0.1; done
curl -s http://127.0.0.1:8083/connectors?expand=status | python3 -m json.tool

step "streaming $EVENTS e-commerce events into topic ecommerce-events"
summary="$("$BIN/generate-events" --bootstrap-servers 127.0.0.1:9092 --topic ecommerce-events --count "$EVENTS" 2>/dev/null | tail -1)"
valid="$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['valid'])" "$summary")"
echo "$summary  (malformed events go to the dead-letter topic ecommerce-events-dlq)"

step "embedding and upserting into Qdrant collection ecommerce-events"
# The rate counts from the first stored point on: the steady state, without
# the consumer group's join and the model's load before it.
first=""; last=-1; stalled=0
while :; do
  n="$("$QBIN/qdrant-query" --collection ecommerce-events count 2>/dev/null || echo 0)"
  now=$(date +%s.%N)
  if [ -z "$first" ] && [ "$n" -gt 0 ]; then first="$now $n"; fi
  rate=$(python3 -c "f='$first'.split(); print(f'{($n-int(f[1]))/max(1e-9,$now-float(f[0])):.0f}' if f and $n>int(f[1]) else '-')")
  printf '\r  %6s / %s events stored  (%s events/s steady state)   ' "$n" "$valid" "$rate"
  [ "$n" -ge "$valid" ] && break
  if [ "$n" = "$last" ]; then stalled=$((stalled+1)); else stalled=0; fi
  [ "$stalled" -ge 60 ] && { echo; echo "no progress for 60 s; see $DEMO/connect-host.log" >&2; exit 1; }
  last=$n; sleep 1
done
echo
curl -s http://127.0.0.1:8083/connectors/ecommerce-events-to-qdrant/status | python3 -m json.tool

for phrase in "wireless noise-cancelling headphones" "something to make coffee at home" "shoes for jogging" "kablosuz kulaklık"; do
  step "products nearest to \"$phrase\""
  printf '%s\n' "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$phrase")" \
    | "$BIN/connect-host" embed 2>/dev/null \
    | "$QBIN/qdrant-query" --collection ecommerce-events search --limit 5
done

if [ -n "${DEMO_KEEP_RUNNING:-}" ]; then
  step "everything is running: REST on http://127.0.0.1:8083, Kafka 127.0.0.1:9092, Qdrant gRPC 127.0.0.1:6334 (Ctrl-C stops)"
  wait
fi
