#!/usr/bin/env bash
# Brings the product up on this machine: installs, starts the native stack
# (infrastructure first, then the apps, each waited for), and prints where
# everything is.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh
npx tsx scripts/stack/cli.ts up
echo
npx tsx scripts/stack/cli.ts status
echo
echo "  Stop with 'npm run stack:down' (data kept); wipe data with 'npm run stack:reset'."
