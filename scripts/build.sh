#!/usr/bin/env bash
# build.sh: installs the dependencies and builds strata (release, -march=native) in ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build
