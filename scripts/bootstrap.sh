#!/usr/bin/env bash
# Installs the Node dependencies when they are missing or older than package-lock.json, so the README's
# two commands work on a fresh clone. Go-built tools (Temporal CLI) are built on first use by the
# commands that need them. It uses npm install, not npm ci: this npm leaves other platforms' optional
# packages out of the lock file and npm ci then refuses it; npm install still honours the locked versions.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[bootstrap] Installing Node dependencies (npm install)..." >&2
  npm install --no-audit --no-fund >&2
fi
