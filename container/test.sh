#!/usr/bin/env bash
# Builds the FROM-scratch image (container/build.sh) from the release binary python/ci.sh left
# in the target directory, runs it, and drives a flow through it from the host: the env file
# it writes, a token, a Graph call, then a clean stop. Installs podman and runc when missing.
#
# This machine runs containers inside a container: no cgroup controllers to hand out, no
# raising of rlimits, no overlay mounts. Hence the options below (vfs storage, runc with
# cgroupfs, no default ulimits) and host networking; none of them is baked into the image.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fail() { echo "container/test.sh: $*" >&2; exit 1; }

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc
fi
command -v podman >/dev/null || fail "podman is required and could not be installed"
command -v curl >/dev/null || fail "curl is required"

target_dir=$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")
binary=$target_dir/release/graphbox-mock
[ -x "$binary" ] || fail "$binary is missing: run python/ci.sh (or cargo build --release -p graphbox-mock) first"

work=$(mktemp -d)
name=graphbox-ci-$$
printf '[containers]\ndefault_ulimits = []\n' > "$work/containers.conf"
export CONTAINERS_CONF=$work/containers.conf
export PODMAN_OPTS=${PODMAN_OPTS:---storage-driver vfs --runtime runc --cgroup-manager cgroupfs}
podman() { command podman $PODMAN_OPTS "$@"; }
cleanup() { podman rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

bash container/build.sh "$binary" localhost/graphbox-mock:ci >/dev/null || fail "the image did not build"
echo "container/test.sh: image $(podman image inspect localhost/graphbox-mock:ci --format '{{.Size}}') bytes"

# The data directory at the same path inside and out, so the CA path in the env file is
# right for the host's clients too.
podman run -d --name "$name" --network host -v "$work:$work" localhost/graphbox-mock:ci \
  serve --host 127.0.0.1 --port 0 --data-dir "$work" --env-file "$work/graphbox.env" >/dev/null \
  || fail "the container did not start"
for _ in $(seq 300); do [ -f "$work/graphbox.env" ] && break; sleep 0.1; done
[ -f "$work/graphbox.env" ] || { podman logs "$name" >&2; fail "no env file from the container"; }
set -a; . "$work/graphbox.env"; set +a
token=$(curl -sSf --cacert "$SSL_CERT_FILE" "$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token" \
  -d grant_type=client_credentials -d client_id="$AZURE_CLIENT_ID" \
  --data-urlencode client_secret="$AZURE_CLIENT_SECRET" -d scope=https://graph.microsoft.com/.default \
  | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || fail "no token from the container"
status=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$SSL_CERT_FILE" -H "Authorization: Bearer $token" \
  "$GRAPHBOX_GRAPH_URL/users")
[ "$status" = 200 ] || fail "GET /users through the container answered $status"
# SIGTERM reaches the server as PID 1 and it exits cleanly.
podman stop -t 10 "$name" >/dev/null
[ "$(podman inspect "$name" --format '{{.State.ExitCode}}')" = 0 ] || { podman logs "$name" >&2; fail "unclean exit"; }
echo "container/test.sh: ok"
