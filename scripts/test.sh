#!/usr/bin/env bash
# test.sh: builds strata and runs the whole test suite (meson test; the 'slow' suite is included).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
meson test -C build --print-errorlogs "$@"
