#!/usr/bin/env bash
# HTTP throughput of graphbox-mock against a bare hyper server, the way
# bench-http.sh's README says to measure on these shared 2-vCPU machines:
# every server under `taskset -c 1`, wrk pinned to the same vCPU, targets
# alternated within each round, medians of per-round ratios.
#
# usage: bench/http.sh            (ROUNDS=3 DUR=10s SMALL=1000 BIG=100000 by default)
#
# Targets, one wrk run each per round, in this order:
#   bare    bare hyper, fixed 1 KB JSON body           (mock-server/benches/bare_hyper.rs)
#   small   graphbox-mock, SMALL users: authenticated GET /v1.0/users/{id}
#   select  graphbox-mock, SMALL users: the same user with ?$select=id,displayName,mail
#   big     graphbox-mock, BIG users:   authenticated GET /v1.0/users/{id}
#   pages   graphbox-mock, SMALL users: GET /v1.0/users?$top=999 (a full 999-user page)
#   tokens  graphbox-mock, SMALL users: POST /{tenant}/oauth2/v2.0/token (client credentials)
# With GUARD=1, also per round, each against `small` in the same round (goal: within 5 %;
# `small` itself runs with realism off, the default):
#   journal   a SMALL-user server under --state (the journal open; reads write nothing)
#   fork      a fork of the BIG-user tenant (POST …/fork), GET by id of the same user in it
#   livelog   `small` again while the dashboard's live log is subscribed (its event stream
#             polled once a second, as the page's EventSource does)
# Prints each run, then the medians: mock/bare, big vs small, pages/s.
# Environment: ROUNDS, DUR (wrk duration per run), SMALL, BIG, ID_SEED (42),
#   CONNS/THREADS/WARMUP/PIN_CPU as bench-http.sh takes them, NO_BUILD=1 to skip cargo.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
rounds=${ROUNDS:-3}
dur=${DUR:-10s}
small=${SMALL:-1000}
big=${BIG:-100000}
id_seed=${ID_SEED:-42}
pin=${PIN_CPU:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

command -v jq >/dev/null || { echo "http.sh: needs jq" >&2; exit 2; }
command -v wrk >/dev/null || { echo "http.sh: needs wrk (apt-get install -y wrk)" >&2; exit 2; }

# --- build -------------------------------------------------------------------
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
[[ -x "$mock_bin" && -x "$bare_bin" ]] || { echo "http.sh: binaries missing ($mock_bin, $bare_bin)" >&2; exit 1; }

work=$(mktemp -d /tmp/graphbox-http-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

pin_cmd=()
[[ "$pin" != "none" && -n "$pin" ]] && pin_cmd=(taskset -c "$pin")

# start NAME CMD... : run CMD pinned, stdout to $work/NAME.out; sets $started_pid
# and $ready (its first stdout line).
start() {
  local name=$1; shift
  "${pin_cmd[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  started_pid=$!
  pids+=("$started_pid")
  local i
  for ((i = 0; i < 6000; i++)); do
    if [[ -s "$work/$name.out" ]] && ready=$(head -1 "$work/$name.out") && jq -e . >/dev/null 2>&1 <<<"$ready"; then
      return 0
    fi
    kill -0 "$started_pid" 2>/dev/null || { cat "$work/$name.err" >&2; echo "http.sh: $name exited" >&2; exit 1; }
    sleep 0.01
  done
  echo "http.sh: $name did not become ready" >&2
  exit 1
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

seed_file() { # N DOMAIN FILE
  awk -v n="$1" -v d="$2" 'BEGIN {
    printf "{\"users\":[";
    for (i = 0; i < n; i++) {
      if (i) printf ",";
      printf "{\"accountEnabled\":true,\"displayName\":\"User %07d\",\"mailNickname\":\"user%07d\",\"userPrincipalName\":\"user%07d@%s\",\"passwordProfile\":{\"password\":\"Gb!x12345678a\",\"forceChangePasswordNextSignIn\":false}}", i, i, i, d;
    }
    print "]}";
  }' >"$3"
}

mock_args=(serve --plain-http --port 0 --data-dir "$work/data" --id-seed "$id_seed")

# --- learn the tenant domain for this --id-seed (and create the CA/keys once) --
start probe "$mock_bin" "${mock_args[@]}"
domain=$(jq -r .tenant_domain <<<"$ready")
stop "$started_pid"
echo "tenant domain for --id-seed $id_seed: $domain" >&2

seed_file "$small" "$domain" "$work/small.json"
seed_file "$big" "$domain" "$work/big.json"

# --- servers ---------------------------------------------------------------------
start bare "$bare_bin" serve 0
bare_url="http://127.0.0.1:$(jq -r .port <<<"$ready")/"

t0=$(date +%s%N)
start small "$mock_bin" "${mock_args[@]}" --seed "$work/small.json"
small_ready=$ready
t1=$(date +%s%N)
start big "$mock_bin" "${mock_args[@]}" --seed "$work/big.json"
big_ready=$ready
t2=$(date +%s%N)
echo "started: $small users in $(( (t1 - t0) / 1000000 )) ms, $big users in $(( (t2 - t1) / 1000000 )) ms (process start incl. seeding)" >&2

token_of() { # READY_JSON
  local r=$1
  curl -sf -X POST "$(jq -r .authority <<<"$r")/$(jq -r .tenant_id <<<"$r")/oauth2/v2.0/token" \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$(jq -r .client_id <<<"$r")" \
    --data-urlencode "client_secret=$(jq -r .client_secret <<<"$r")" \
    --data-urlencode scope=https://graph.microsoft.com/.default | jq -r .access_token
}
user_url_of() { # READY_JSON TOKEN : a user from the middle of the first page
  local graph
  graph=$(jq -r .graph_url <<<"$1")
  local id
  id=$(curl -sf -H "Authorization: Bearer $2" "$graph/users?\$top=999&\$select=id" | jq -r '.value | .[(length / 2 | floor)].id')
  echo "$graph/users/$id"
}

small_token=$(token_of "$small_ready")
big_token=$(token_of "$big_ready")
small_url=$(user_url_of "$small_ready" "$small_token")
big_url=$(user_url_of "$big_ready" "$big_token")
pages_url="$(jq -r .graph_url <<<"$small_ready")/users?\$top=999"
select_url="$small_url?\$select=id,displayName,mail"
# Sanity: a full page really has 999 users.
n_page=$(curl -sf -H "Authorization: Bearer $small_token" "$pages_url" | jq '.value | length')
echo "page size check: $n_page users in the first page of $pages_url" >&2
echo "GET by id body: $(curl -sf -H "Authorization: Bearer $small_token" "$small_url" | wc -c) bytes (bare: $(curl -sf "$bare_url" | wc -c) bytes)" >&2

if [[ -n "${GUARD:-}" ]]; then
  start journal "$mock_bin" "${mock_args[@]}" --seed "$work/small.json" --state "$work/state.json"
  journal_ready=$ready
  journal_token=$(token_of "$journal_ready")
  journal_url=$(user_url_of "$journal_ready" "$journal_token")
  fork_ready=$(curl -sf -X POST "$(jq -r .control_url <<<"$big_ready")/tenants/$(jq -r .tenant_id <<<"$big_ready")/fork")
  fork_token=$(token_of "$fork_ready")
  fork_url="$(jq -r .graph_url <<<"$fork_ready")/users/${big_url##*/}"
  [[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $fork_token" "$fork_url")" == 200 ]] \
    || { echo "http.sh: the fork does not hold $fork_url" >&2; exit 1; }
  events_url="$(jq -r .control_url <<<"$small_ready")/ui/tenants/$(jq -r .tenant_id <<<"$small_ready")/log/events"
  curl -sf -o /dev/null "$events_url" || { echo "http.sh: no live log at $events_url" >&2; exit 1; }
fi

token_url="$(jq -r .authority <<<"$small_ready")/$(jq -r .tenant_id <<<"$small_ready")/oauth2/v2.0/token"
token_body="grant_type=client_credentials&client_id=$(jq -r .client_id <<<"$small_ready")&client_secret=$(jq -r .client_secret <<<"$small_ready")&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
echo "token size: $(echo -n "$small_token" | wc -c) bytes" >&2

# --- rounds ----------------------------------------------------------------------
results=$work/results
: >"$results"
run() { # ROUND NAME URL TOKEN
  local line rc=0
  line=$("$here/bench-http.sh" "$3" "$4" "$dur") || rc=$?
  [[ $rc -eq 0 ]] || echo "http.sh: round $1 $2: bench-http.sh exit $rc" >&2
  [[ -n "$line" ]] || return 0
  echo "round=$1 target=$2 $line"
  echo "$1 $2 $line" >>"$results"
}

echo "# $(date -u +%FT%TZ) $(nproc) vCPU, servers and wrk pinned to CPU $pin, wrk ${THREADS:-1} thread(s) ${CONNS:-4} conns, $dur per run"
for ((r = 1; r <= rounds; r++)); do
  run "$r" bare "$bare_url" -
  run "$r" small "$small_url" "$small_token"
  run "$r" select "$select_url" "$small_token"
  run "$r" big "$big_url" "$big_token"
  run "$r" pages "$pages_url" "$small_token"
  METHOD=POST BODY=$token_body run "$r" tokens "$token_url" -
  if [[ -n "${GUARD:-}" ]]; then
    run "$r" journal "$journal_url" "$journal_token"
    run "$r" fork "$fork_url" "$fork_token"
    ( last=0
      while :; do
        out=$(curl -s -H "Last-Event-ID: $last" "$events_url") || true
        id=$(grep '^id: ' <<<"$out" | tail -1 | cut -d' ' -f2)
        [[ -n "$id" ]] && last=$id
        sleep 1
      done ) &
    poller=$!
    run "$r" livelog "$small_url" "$small_token"
    kill "$poller" 2>/dev/null || true
    wait "$poller" 2>/dev/null || true
  fi
done

# Tokens are CPU-bound (RSA-2048 signatures): a server pinned to one vCPU runs one
# tokio worker. Once more with a server and wrk free to use both vCPUs.
pin_cmd=()
start free "$mock_bin" "${mock_args[@]}"
free_ready=$ready
free_body="grant_type=client_credentials&client_id=$(jq -r .client_id <<<"$free_ready")&client_secret=$(jq -r .client_secret <<<"$free_ready")&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
PIN_CPU=none METHOD=POST BODY=$free_body run 1 tokens_unpinned \
  "$(jq -r .authority <<<"$free_ready")/$(jq -r .tenant_id <<<"$free_ready")/oauth2/v2.0/token" -

# --- summary ---------------------------------------------------------------------
val() { # ROUND TARGET FIELD
  awk -v r="$1" -v t="$2" -v f="$3" '$1 == r && $2 == t { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }' "$results"
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit } if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

ratios=() select_ratios=() changes=()
for ((r = 1; r <= rounds; r++)); do
  b=$(val "$r" bare rps); s=$(val "$r" small rps); g=$(val "$r" big rps); x=$(val "$r" select rps)
  [[ -n "$b" && -n "$s" ]] && ratios+=("$(awk -v s="$s" -v b="$b" 'BEGIN { printf "%.4f", s / b }')")
  [[ -n "$b" && -n "$x" ]] && select_ratios+=("$(awk -v s="$x" -v b="$b" 'BEGIN { printf "%.4f", s / b }')")
  [[ -n "$s" && -n "$g" ]] && changes+=("$(awk -v s="$s" -v g="$g" 'BEGIN { printf "%.4f", (g / s - 1) * 100 }')")
done
med_of() { for r in $(seq 1 "$rounds"); do val "$r" "$1" "$2"; done | median; }

echo
echo "## medians over $rounds rounds"
echo "bare   rps=$(med_of bare rps) p50_ms=$(med_of bare p50_ms) p99_ms=$(med_of bare p99_ms)"
echo "small  rps=$(med_of small rps) p50_ms=$(med_of small p50_ms) p99_ms=$(med_of small p99_ms)   ($small users, GET /users/{id})"
echo "select rps=$(med_of select rps) p50_ms=$(med_of select p50_ms) p99_ms=$(med_of select p99_ms)   ($small users, GET /users/{id}?\$select=id,displayName,mail)"
echo "big    rps=$(med_of big rps) p50_ms=$(med_of big p50_ms) p99_ms=$(med_of big p99_ms)   ($big users, GET /users/{id})"
echo "pages  pages_per_s=$(med_of pages rps) p50_ms=$(med_of pages p50_ms) p99_ms=$(med_of pages p99_ms)   (GET /users?\$top=999, 999 users a page)"
echo "tokens tokens_per_s=$(med_of tokens rps) p50_ms=$(med_of tokens p50_ms) p99_ms=$(med_of tokens p99_ms)   (client credentials, pinned to 1 vCPU)"
echo "tokens unpinned (2 vCPU shared with wrk, 1 run): $(grep ' tokens_unpinned ' "$results" | cut -d' ' -f3-)   goal >= 2000/s"
echo "ratio mock/bare (per-round ratios: ${ratios[*]:-none}) median=$(printf '%s\n' "${ratios[@]}" | median)   goal >= 0.70"
echo "ratio select/bare (per-round ratios: ${select_ratios[*]:-none}) median=$(printf '%s\n' "${select_ratios[@]}" | median)   goal >= 0.70"
echo "change $big vs $small users, % (per round: ${changes[*]:-none}) median=$(printf '%s\n' "${changes[@]}" | median)   goal within ±5"
if [[ -n "${GUARD:-}" ]]; then
  for g in journal fork livelog; do
    per=()
    for ((r = 1; r <= rounds; r++)); do
      s=$(val "$r" small rps); x=$(val "$r" "$g" rps)
      [[ -n "$s" && -n "$x" ]] && per+=("$(awk -v s="$s" -v x="$x" 'BEGIN { printf "%.4f", (x / s - 1) * 100 }')")
    done
    echo "guard $g vs small, % (per round: ${per[*]:-none}) median=$(printf '%s\n' "${per[@]}" | median) rps=$(med_of "$g" rps) p99_ms=$(med_of "$g" p99_ms)   goal within ±5"
  done
fi
