#!/usr/bin/env bash
# The one test command (README, CI): install what is missing, type-check, run the unit
# and integration tests. The integration project's global setup starts the native
# stack, or reuses it when it is already up, and leaves it running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh
echo "[test] type-check"
npx tsc -p tsconfig.json
echo "[test] vitest"
npx vitest run "$@"
