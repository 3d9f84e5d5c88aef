#!/usr/bin/env bash
# Installs Node dependencies when they are missing or older than their package-lock.json, so the README's
# two commands work on a fresh clone. Go-built tools (Temporal CLI) are built on first use by the
# commands that need them. It uses npm install, not npm ci: this npm leaves other platforms' optional
# packages out of the lock file and npm ci then refuses it; npm install still honours the locked versions.
#
#   bash scripts/bootstrap.sh          the application's dependencies
#   bash scripts/bootstrap.sh chain    also the local chain's tools in chain/ (Anvil, Hardhat, Superfluid's
#                                      contracts; decision 0017), which the embedded chain starts on demand
set -euo pipefail
cd "$(dirname "$0")/.."

install_if_stale() {
  local dir="$1" what="$2"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "[bootstrap] Installing $what (npm install in $dir/)..." >&2
    (cd "$dir" && npm install --no-audit --no-fund >&2)
    echo "[bootstrap] Installed $what." >&2
  fi
}

install_if_stale . "the Node dependencies"
if [ "${1:-}" = chain ]; then
  install_if_stale chain "the local chain's tools: Anvil, Hardhat and Superfluid's contracts (about 600 MB, once; a minute or two)"
fi
