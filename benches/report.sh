#!/usr/bin/env bash
# Runs every criterion bench and writes BENCHMARKS.md and benches/workers.svg.
#
#   benches/report.sh            run the benches (about 20 minutes on 2 cores), then report
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
    --bench concurrent --bench keyed --bench stage --bench time --bench fan --bench blocking --bench failure --bench observe \
    -- --noplot
fi

# Instruction counts: the same on every run, where wall time is not.
counts=target/instructions.tsv
if command -v valgrind >/dev/null 2>&1; then
  if [ "${1:-}" != "--no-run" ] || [ ! -f "$counts" ]; then
    bin=$(cargo bench --bench instructions --no-run --message-format=json 2>/dev/null |
      python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions" and m.get("executable"):
        print(m["executable"])')
    : >"$counts.new"
    for w in $("$bin" list); do
      n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$w" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
      printf '%s\t%s\n' "$w" "$n" >>"$counts.new"
    done
    mv "$counts.new" "$counts"
    # Allocations per item of the same workloads (no valgrind needed, but the
    # binary is at hand here).
    "$bin" allocations >target/allocations.tsv
  fi
else
  echo "valgrind not found: BENCHMARKS.md will have no instruction counts" >&2
  rm -f "$counts"
fi

python3 benches/report.py target/criterion BENCHMARKS.md benches/workers.svg "$counts" target/allocations.tsv
echo "wrote BENCHMARKS.md and benches/workers.svg"
