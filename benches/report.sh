#!/usr/bin/env bash
# Runs every criterion bench and writes BENCHMARKS.md and benches/workers.svg.
#
#   benches/report.sh            run the benches (about 15 minutes on 2 cores), then report
#   benches/report.sh --no-run   report on what target/criterion already holds
#
# Needs cargo and python3 (standard library only). Ours and each peer run in the
# same criterion group of the same process, so a ratio compares like with like.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--no-run" ]; then
  # Start clean, so the report holds this run's numbers and nothing older.
  rm -rf target/criterion
  cargo bench --all-features \
    --bench concurrent --bench time --bench fan --bench blocking \
    -- --noplot
fi

python3 benches/report.py target/criterion BENCHMARKS.md benches/workers.svg
echo "wrote BENCHMARKS.md and benches/workers.svg"
