#!/usr/bin/env bash
# Process start of the release binary to its first answered HTTP request, with
# the CA and signing key already in --data-dir (the steady state: a developer's
# machine after the first run). Median of RUNS (20).
#
# usage: bench/process_start.sh
# Each run: note the time ($EPOCHREALTIME, no fork), spawn
# `graphbox-mock serve --plain-http --port P --data-dir D` under `taskset -c 1`,
# connect to P from this shell (bash's /dev/tcp: no curl start-up in the figure)
# until the connection is accepted, send `GET /v1.0/users` without a token and
# read the status line (401 is an answer), note the time, kill the server.
# The shell pins itself to CPU 0 so its polling does not steal the server's vCPU.
# The same is measured for the bare hyper server (bench target bare_hyper) as the floor.
# Environment: RUNS (20), NO_BUILD=1 to skip cargo, PIN_CPU (1) or "none".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
runs=${RUNS:-20}
pin=${PIN_CPU:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

mock_bin=$CARGO_TARGET_DIR/release/graphbox-mock
if [[ -z "${NO_BUILD:-}" ]]; then
  echo "building (cargo build --release -p graphbox-mock --benches --bins)…" >&2
  bare_bin=$(cd "$root" && cargo build --release -p graphbox-mock --benches --bins \
      --message-format=json-render-diagnostics \
    | jq -r 'select(.reason=="compiler-artifact" and .target.name=="bare_hyper" and .executable != null) | .executable' \
    | tail -1)
else
  bare_bin=$(ls -t "$CARGO_TARGET_DIR"/release/deps/bare_hyper-* 2>/dev/null | grep -v '\.d$' | head -1)
fi
[[ -x "$mock_bin" && -x "$bare_bin" ]] || { echo "process_start.sh: binaries missing" >&2; exit 1; }

work=$(mktemp -d /tmp/graphbox-start-bench.XXXXXX)
server_pid=
cleanup() {
  [[ -n "$server_pid" ]] && { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

ncpu=$(nproc)
pin_cmd=()
if [[ "$pin" != "none" && -n "$pin" ]]; then
  pin_cmd=(taskset -c "$pin")
  taskset -cp 0 $$ >/dev/null 2>&1 || true
fi

# A free port: ask the kernel through the bare server once.
"$bare_bin" serve 0 >"$work/port" 2>/dev/null &
server_pid=$!
until [[ -s "$work/port" ]]; do sleep 0.01; done
port=$(jq -r .port <"$work/port")
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=

# Create the CA, server certificate and signing key once (not measured).
"$mock_bin" serve --plain-http --port "$port" --data-dir "$work/data" >"$work/ready" 2>"$work/err" &
server_pid=$!
until [[ -s "$work/ready" ]]; do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
  sleep 0.05
done
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
ls "$work/data"/ca.pem >/dev/null

# one_start CMD... : prints microseconds from spawn to the status line of the first answer.
one_start() {
  local t0 t1 status
  t0=$EPOCHREALTIME
  "${pin_cmd[@]}" "$@" >/dev/null 2>&1 &
  server_pid=$!
  local tries=0
  until exec 3<>"/dev/tcp/127.0.0.1/$port"; do
    tries=$((tries + 1))
    ((tries < 200000)) || { echo "process_start.sh: no answer" >&2; exit 1; }
  done 2>/dev/null
  printf 'GET /v1.0/users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  IFS= read -r status <&3
  t1=$EPOCHREALTIME
  exec 3<&-
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  [[ "$status" == HTTP/1.1\ * ]] || { echo "process_start.sh: odd answer: $status" >&2; exit 1; }
  echo $(( (10#${t1/./} - 10#${t0/./}) ))
}

stats() { # label, microsecond values on stdin
  sort -n | awk -v label="$1" '{ a[NR] = $1 } END {
    med = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2;
    printf "%-40s runs=%d median=%.2f ms min=%.2f ms max=%.2f ms\n", label, NR, med / 1000, a[1] / 1000, a[NR] / 1000 }'
}

echo "# $(date -u +%FT%TZ) $ncpu vCPU, server pinned to CPU $pin, poller on CPU 0, $runs runs each"
for i in $(seq "$runs"); do one_start "$bare_bin" serve "$port"; done | stats "bare hyper (floor)"
for i in $(seq "$runs"); do one_start "$mock_bin" serve --plain-http --port "$port" --data-dir "$work/data"; done \
  | stats "graphbox-mock serve --plain-http"
