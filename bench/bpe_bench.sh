#!/usr/bin/env bash
# bpe_bench.sh: installs the npm package tiktoken into bench/node_modules (gitignored; not done by
# CI), builds bench/bpe_bench and runs it with --json. Extra arguments go to bpe_bench, e.g.
#   bench/bpe_bench.sh --runs 5 --peer-runs 3
# BUILD=<dir> picks the meson build directory (default: build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD:-$root/build}
if [ ! -d "$here/node_modules/tiktoken" ]; then
  npm install --prefix "$here" --no-save --no-package-lock --no-audit --no-fund tiktoken@1.0.22 >&2
fi
ninja -C "$build" bench/bpe_bench >&2
"$build/bench/bpe_bench" --json "$@"
