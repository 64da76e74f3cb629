#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root, no internet but the Debian and npm package
# registries), builds dist/kiln and runs the main job (scripts/demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run build
node_modules/.bin/bun scripts/demo.ts
