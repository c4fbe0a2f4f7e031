#!/usr/bin/env bash
# Set up a virtual environment with the project and the embedded model, then start the terminal chat.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh local .venv/.installed
exec .venv/bin/datagen chat "$@"
