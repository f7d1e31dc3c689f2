#!/usr/bin/env bash
# The packages as a user gets them. The Python distribution: build the wheel from this checkout (maturin, the
# server binary in release), install it into a fresh venv, run python/tests through the
# installed pytest plugin with Microsoft's MSAL, azure-identity and msgraph-sdk, then the
# README's any-language block with the installed binary; then `cargo install` and
# `cargo package` of the crates. Called by .ci/run; a missing tool
# fails here, loudly. Prints the wheel's size and its pip install time (figures, not checks).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

fail() { echo "python/ci.sh: $*" >&2; exit 1; }
python=${PYTHON:-python3}
command -v "$python" >/dev/null || fail "$python is required (set PYTHON to another interpreter)"
"$python" -c 'import sys; assert sys.version_info >= (3, 9)' || fail "Python 3.9 or later is required"
"$python" -m venv --help >/dev/null 2>&1 || fail "the venv module is required (Debian: apt-get install python3-venv)"
command -v cargo >/dev/null || fail "cargo is required to build the wheel"
command -v curl >/dev/null || fail "curl is required for the README's any-language block"

# The README's three ways in are these files, verbatim: a drift fails CI.
"$python" - "$root" <<'PY'
import pathlib, sys, textwrap
root = pathlib.Path(sys.argv[1])
readme = root.joinpath("README.md").read_text()
for path in ("tests/quickstart.rs", "python/tests/test_quickstart.py", "python/quickstart.sh"):
    text = root.joinpath(path).read_text()
    if path.endswith(".rs"):
        text = text.split("\n", 1)[1]  # the comment saying where it is checked
    if text not in readme:
        sys.exit(f"python/ci.sh: README.md no longer shows {path} verbatim")
# The CI steps' shell is the same block, indented under `run: |` / `script:`.
shell = [l.strip() for l in root.joinpath("python/quickstart.sh").read_text().splitlines() if l.strip()]
for marker in ("run: |\n", "  script:\n"):
    start = readme.find(marker)
    if start < 0:
        sys.exit(f"python/ci.sh: README.md lost its CI step ({marker.strip()})")
    block = readme[start + len(marker):].split("```", 1)[0]
    lines = [l.strip().removeprefix("- ") for l in block.splitlines() if l.strip() not in ("", "|", "- |")]
    if lines[:len(shell)] != shell:
        sys.exit(f"python/ci.sh: README.md's CI step ({marker.strip()}) is not python/quickstart.sh")
PY

# Cargo's target directory (the workspace's target/ unless CARGO_TARGET_DIR says otherwise):
# the release build and the venvs are kept there between runs.
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")
work=$target_dir/python-ci
mkdir -p "$work"

# The build tool, from PyPI, in its own venv kept between runs.
tools=$work/build-venv
if ! "$tools/bin/maturin" --version >/dev/null 2>&1; then
  rm -rf "$tools"
  "$python" -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check 'maturin>=1.5,<2'
fi

# The wheel: release build into the workspace's target/ (kept between runs, so only what
# changed is rebuilt).
rm -rf "$work/wheels"
(cd python && CARGO_TARGET_DIR="$target_dir" "$tools/bin/maturin" build --release --quiet --out "$work/wheels") || fail "maturin could not build the wheel"
wheel=$(ls "$work"/wheels/graphbox-*.whl)
echo "python/ci.sh: wheel $(basename "$wheel"): $(du -k "$wheel" | cut -f1) KiB"

# A fresh venv every run: the wheel alone (timed), then the SDKs the suite drives.
venv=$work/venv
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
began=$(date +%s%N)
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel"
echo "python/ci.sh: pip install of the wheel: $(( ($(date +%s%N) - began) / 1000000 )) ms"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  'pytest>=8,<10' 'msal>=1.30,<2' 'azure-identity>=1.19,<2' 'msgraph-sdk>=1.20,<2' 'requests>=2.31,<3' 'mypy>=1.10,<2'

# From outside the checkout, so nothing can be imported from python/src.
run_dir=$(mktemp -d)
trap 'rm -rf "$run_dir"' EXIT
(cd "$run_dir" && env -u GRAPHBOX_MOCK_BINARY "$venv/bin/python" -m pytest "$root/python/tests" \
  -p no:cacheprovider -W ignore::DeprecationWarning -q) || fail "the Python suite failed"

# The package is typed (py.typed): its installed copy checks clean under mypy --strict.
(cd "$run_dir" && "$venv/bin/python" -m mypy --strict --no-incremental -p graphbox) \
  || fail "mypy --strict found errors in the installed graphbox package"

# The any-language block, with the binary the wheel put on the venv's PATH.
(cd "$run_dir" && PATH="$venv/bin:$PATH" bash -euo pipefail "$root/python/quickstart.sh" \
  | "$venv/bin/python" -c 'import json, sys; assert json.load(sys.stdin)["token_type"] == "Bearer"') \
  || fail "the README's --env-file block failed"

# The crates as a Rust user gets them: `cargo install` gives a working binary (the release
# build above is reused), and both crates package and build from their .crate files alone
# (packaged together, so the SDK's dev-dependency on the unpublished mock resolves).
# --allow-dirty: a developer's uncommitted edits are packaged as they are, not refused.
CARGO_TARGET_DIR="$target_dir" cargo install --quiet --locked --path mock-server --root "$work/cargo-root" \
  || fail "cargo install --path mock-server failed"
(cd "$run_dir" && PATH="$work/cargo-root/bin:$PATH" bash -euo pipefail "$root/python/quickstart.sh" \
  | "$venv/bin/python" -c 'import json, sys; assert json.load(sys.stdin)["token_type"] == "Bearer"') \
  || fail "the cargo-installed graphbox-mock failed the README's --env-file block"
CARGO_TARGET_DIR="$target_dir" cargo package --quiet --locked --allow-dirty -p graphbox-mock -p graphbox-sdk \
  || fail "cargo package of graphbox-mock and graphbox-sdk failed"
echo "python/ci.sh: ok"
