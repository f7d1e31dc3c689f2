#!/usr/bin/env bash
# Builds the graphbox-mock image FROM scratch: the binary at $1 plus what `ldd` says it loads.
# Usage: container/build.sh path/to/graphbox-mock [image name, default localhost/graphbox-mock]
set -euo pipefail
binary=$1
image=${2:-localhost/graphbox-mock}
here=$(cd "$(dirname "$0")" && pwd)
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/rootfs/data" "$context/rootfs/tmp"
cp "$binary" "$context/rootfs/graphbox-mock"
for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
  mkdir -p "$context/rootfs$(dirname "$lib")"
  cp -L "$lib" "$context/rootfs$lib"
done
cp "$here/Containerfile" "$context/"
podman ${PODMAN_OPTS:-} build --quiet -t "$image" "$context"
