#!/usr/bin/env bash
# The test command: installs what is missing, checks formatting and lints,
# then runs every test against a real broker started by the tests themselves.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
source scripts/env.sh
scripts/setup.sh
# Again: setup may just have installed torch (LIBTORCH, LD_LIBRARY_PATH).
source scripts/env.sh
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --features test-plugins --quiet -- -D warnings
echo "==> benchmark scripts parse (scripts/bench.sh runs them; CI does not gate on figures)"
bash -n scripts/bench.sh scripts/demo.sh
python3 -c "import ast, sys; [ast.parse(open(f).read(), f) for f in sys.argv[1:]]" bench/run.py bench/python_pipeline.py
echo "==> cargo test"
cargo test --workspace --features test-plugins
