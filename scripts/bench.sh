#!/usr/bin/env bash
# Benchmarks that print figures and write a results file (timings are
# never asserted by tests), on a release build:
#  1. the embedder alone (`connect-host embed`) per device and precision, on
#     distinct texts and on a realistic stream where the text cache answers;
#  2. side by side with the Python pipeline it replaces (bench/run.py):
#     model only against sentence-transformers, end to end through Kafka into
#     Qdrant on distinct texts and on a Zipf stream, latency at a fixed
#     load, peak RSS and where the time went.
#
#   scripts/bench.sh                      # everything, cpu (and cuda when libtorch sees one)
#   BENCH_ONLY=embedder scripts/bench.sh  # part 1 only
#   BENCH_ONLY=side-by-side scripts/bench.sh
#   BENCH_ONLY=stages scripts/bench.sh    # converters and SMTs alone (3.)
#  3. records/s through the converter and transform stages alone: JSON,
#     Avro (Confluent wire format) and a 5-step SMT chain, on one core
#     (runtime/benches/stages.rs; results in stages-bench-results.md).
# Sizes: BENCH_TEXTS (1000), BENCH_DISTINCT_EVENTS (4000),
# BENCH_STREAM_EVENTS (200000), BENCH_SECONDS (120, per end-to-end run),
# BENCH_RATE (1000 events/s), BENCH_LATENCY_SECONDS (30), BENCH_DEVICE (cpu);
# BENCH_QDRANT (release: the test server's release build, or debug).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh >/dev/null
# Again: setup may just have installed torch (LIBTORCH, LD_LIBRARY_PATH).
source scripts/env.sh
cargo build --quiet --release -p connect-host -p event-generator
BIN="${CARGO_TARGET_DIR}/release"
N="${BENCH_TEXTS:-1000}"
RESULTS="${BENCH_RESULTS:-$CONNECTHOST_CACHE/bench-results.md}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ "${BENCH_ONLY:-}" = stages ]; then
  BENCH_STAGES_RESULTS="${BENCH_STAGES_RESULTS:-$CONNECTHOST_CACHE/stages-bench-results.md}" \
    cargo bench --quiet -p connect-runtime --bench stages
  exit 0
fi

if [ "${BENCH_ONLY:-}" != side-by-side ]; then
  "$BIN/generate-events" --texts --distinct --count "$N" --catalogue-size $((N * 2)) --seed 1 > "$work/distinct"
  "$BIN/generate-events" --texts --count "$N" --seed 1 > "$work/stream"
  echo "embedder benchmark on $(nproc) CPU threads; each run includes loading the model (~0.5 s)"
  echo "  distinct: $(sort -u "$work/distinct" | wc -l) different product texts; stream: $N events' texts, $(sort -u "$work/stream" | wc -l) distinct"
  devices="cpu"
  if "$BIN/connect-host" embed --device cuda <<< '"probe"' >/dev/null 2>&1; then devices="cpu cuda"; fi
  for device in $devices; do
    for precision in auto fp32 bf16 $([ "$device" = cuda ] && echo fp16); do
      for set in distinct stream; do
        lines=$(wc -l < "$work/$set")
        start=$(date +%s.%N)
        "$BIN/connect-host" embed --device "$device" --precision "$precision" < "$work/$set" > /dev/null
        end=$(date +%s.%N)
        python3 -c "d=$end-$start; print(f'  {\"$device\":5} {\"$precision\":5} {\"$set\":9} {$lines/d:8.1f} texts/s  ({d:.2f} s)')"
      done
    done
  done
fi

if [ "${BENCH_ONLY:-}" != embedder ]; then
  # Qdrant for both pipelines: the test server's release build. The debug
  # build that the tests use spent most of a core on upserts (18 s per task
  # in a 30 s latency run), which a 2-core machine's model needs; real
  # Qdrant is a release build. Built once (~10–15 min), cached beside the
  # debug one; BENCH_QDRANT=debug keeps the debug build.
  if [ "${BENCH_QDRANT:-release}" = release ]; then
    echo "building the Qdrant test server's release build (once)"
    RUSTUP_AUTO_INSTALL=0 CARGO_TARGET_DIR="$CONNECTHOST_CACHE/target-qdrant-server" \
      cargo +nightly build --quiet --release --locked --manifest-path tests/qdrant-server/Cargo.toml
    export QDRANT_TEST_SERVER_BIN="$CONNECTHOST_CACHE/target-qdrant-server/release/qdrant-test-server"
  fi
  # The Python pipeline's libraries, in the venv that already has torch.
  if [ ! -f "$TORCH_VENV/.bench-ready" ]; then
    echo "installing sentence-transformers, confluent-kafka and qdrant-client into $TORCH_VENV"
    "$TORCH_VENV/bin/pip" install --quiet --disable-pip-version-check \
      sentence-transformers confluent-kafka qdrant-client
    touch "$TORCH_VENV/.bench-ready"
  fi
  echo
  echo "side by side with the Python pipeline (bench/run.py)"
  BENCH_BIN="$BIN" BENCH_RESULTS="$RESULTS" "$TORCH_VENV/bin/python" bench/run.py
fi

if [ -z "${BENCH_ONLY:-}" ]; then
  echo
  BENCH_STAGES_RESULTS="${BENCH_STAGES_RESULTS:-$CONNECTHOST_CACHE/stages-bench-results.md}" \
    cargo bench --quiet -p connect-runtime --bench stages
fi
