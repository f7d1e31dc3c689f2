#!/usr/bin/env bash
# A short, bounded fuzz run of every target, for CI: each target runs for a
# fixed time (FUZZ_SECONDS, default 15) and any crash, leak, out-of-memory or
# slow input fails the run. Installs cargo-fuzz (pinned) when it is missing and
# refuses to run without a C++ compiler rather than skipping.
#
# Usage: bash mock-server/fuzz/run-bounded.sh   (from anywhere)
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.1
seconds="${FUZZ_SECONDS:-15}"
targets=(filter path query xml batch saml)

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate_dir="$(dirname "$fuzz_dir")"
started=$(date +%s)

# libfuzzer-sys compiles libFuzzer's C++ sources.
if ! command -v c++ >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "run-bounded: no C++ compiler; installing g++ with apt-get" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null
    fi
    if ! command -v c++ >/dev/null 2>&1; then
        echo "run-bounded: FAILED: libfuzzer-sys needs a C++ compiler (c++) and none could be installed" >&2
        exit 1
    fi
fi

if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    echo "run-bounded: installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
    cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
installed=$(date +%s)

# cargo-fuzz passes nightly-only flags (-Zsanitizer=address); the pinned
# toolchain is stable, and RUSTC_BOOTSTRAP lets it accept them.
export RUSTC_BOOTSTRAP=1
cd "$crate_dir"
cargo fuzz build
built=$(date +%s)

declare -A runs verdict
failed=0
for target in "${targets[@]}"; do
    flags=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1)
    case "$target" in
        xml | batch | saml) flags+=(-max_len=65536) ;;
    esac
    corpus=("$fuzz_dir/corpus/$target")
    mkdir -p "${corpus[0]}"
    if [ -d "$fuzz_dir/seeds/$target" ]; then
        corpus+=("$fuzz_dir/seeds/$target")
    fi
    log="$fuzz_dir/target/run-bounded-$target.log"
    mkdir -p "$(dirname "$log")"
    echo "run-bounded: $target for ${seconds}s" >&2
    if cargo fuzz run "$target" "${corpus[@]}" -- "${flags[@]}" >"$log" 2>&1; then
        verdict[$target]=ok
    else
        verdict[$target]="FAILED (see $log and $fuzz_dir/artifacts/$target/)"
        failed=1
        tail -n 40 "$log" >&2
    fi
    runs[$target]=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1 || true)
done
finished=$(date +%s)

echo "run-bounded: install $((installed - started))s, build $((built - installed))s, runs $((finished - built))s"
for target in "${targets[@]}"; do
    echo "run-bounded: $target: ${runs[$target]:-?} executions in ${seconds}s: ${verdict[$target]}"
done
exit "$failed"
