#!/usr/bin/env bash
# In-process start of graphbox-mock to the first token, in a DEBUG build (what a consumer's
# `cargo test` pays per test binary). Goal: under 50 ms total. Builds the example
# `debug_start` (mock-server/examples/debug_start.rs) with the dev profile and runs it RUNS (10)
# times, each in a fresh process, after one untimed run that makes sure the key material exists
# in the data directory; prints each run and the medians.
#
# COLD=1 additionally runs once against an empty GRAPHBOX_DATA_DIR: the one start per machine
# that generates the keys.
# Environment: RUNS (10), NO_BUILD=1 to skip cargo, CARGO_TARGET_DIR honoured.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
runs=${RUNS:-10}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
bin=$CARGO_TARGET_DIR/debug/examples/debug_start
if [[ -z "${NO_BUILD:-}" ]]; then
  (cd "$root" && cargo build -q -p graphbox-mock --example debug_start)
fi
[[ -x "$bin" ]] || { echo "debug_start.sh: $bin missing" >&2; exit 1; }

if [[ -n "${COLD:-}" ]]; then
  cold=$(mktemp -d /tmp/graphbox-cold.XXXXXX)
  echo "cold (keys generated): $(GRAPHBOX_DATA_DIR=$cold "$bin")"
  rm -rf "$cold"
fi
"$bin" >/dev/null
echo "start_ms first_token_ms total_ms second_start_ms"
for _ in $(seq "$runs"); do "$bin"; done | awk '
  { print; s[NR]=$1; t[NR]=$2; a[NR]=$3; b[NR]=$4 }
  function median(x, n,   i, j, v) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { v = x[i]; x[i] = x[j]; x[j] = v }
    return (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
  END { printf "median: start %.1f ms, first token %.1f ms, total %.1f ms (goal < 50), second start %.1f ms\n",
        median(s, NR), median(t, NR), median(a, NR), median(b, NR) }'
