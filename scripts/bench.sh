#!/usr/bin/env bash
# Benchmarks that print figures (timings are never asserted by tests):
# throughput of the sink's embedder (`connect-host embed`, release build)
#  - on distinct product texts: the model itself;
#  - on a realistic event stream, where popular products repeat and the
#    embedder's text cache answers most texts.
#
#   scripts/bench.sh                   # cpu, and cuda when libtorch sees one
#   BENCH_TEXTS=2000 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh >/dev/null
# Again: setup may just have installed torch (LIBTORCH, LD_LIBRARY_PATH).
source scripts/env.sh
cargo build --quiet --release -p connect-host -p event-generator
BIN="${CARGO_TARGET_DIR}/release"
N="${BENCH_TEXTS:-1000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$BIN/generate-events" --texts --count $((N * 3)) --catalogue-size $((N * 20)) --seed 1 | awk '!seen[$0]++' | head -n "$N" > "$work/distinct"
"$BIN/generate-events" --texts --count "$N" --seed 1 > "$work/stream"
echo "embedder benchmark on $(nproc) CPU threads; each run includes loading the model (~0.5 s)"
echo "  distinct: $(wc -l < "$work/distinct") different product texts; stream: $N events' texts, $(sort -u "$work/stream" | wc -l) distinct"
devices="cpu"
if "$BIN/connect-host" embed --device cuda <<< '"probe"' >/dev/null 2>&1; then devices="cpu cuda"; fi
for device in $devices; do
  for precision in fp32 bf16 $([ "$device" = cuda ] && echo fp16); do
    for set in distinct stream; do
      lines=$(wc -l < "$work/$set")
      start=$(date +%s.%N)
      "$BIN/connect-host" embed --device "$device" --precision "$precision" < "$work/$set" > /dev/null
      end=$(date +%s.%N)
      python3 -c "d=$end-$start; print(f'  {\"$device\":5} {\"$precision\":5} {\"$set\":9} {$lines/d:8.1f} texts/s  ({d:.2f} s)')"
    done
  done
done
