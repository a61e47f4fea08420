#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine, and nothing
# that is already there: Debian packages (PostgreSQL 15, JDK 17, Maven,
# docker-compose for validating the compose file, Chromium for the console's browser
# tests) and the npm dependencies.
# Kafka, Connect and Debezium jars come from Maven Central on the first `stack:up`.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[install] %s\n' "$*"; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 20 )); then
  echo "[install] Node.js >= 20 is required (found $(node --version))" >&2
  exit 1
fi

missing=()
[[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=(postgresql-15)
command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v docker-compose >/dev/null || missing+=(docker-compose)
# The console's browser tests drive Debian's Chromium with playwright-core.
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
if (( ${#missing[@]} > 0 )); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "[install] missing Debian packages: ${missing[*]} — run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.install-stamp
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$lock_hash" ]]; then
  log "npm ci"
  npm ci --no-audit --no-fund
  echo "$lock_hash" > "$stamp"
fi
