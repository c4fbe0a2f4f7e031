#!/usr/bin/env bash
# Set up a virtual environment with the project, the embedded model and the test tools, then run the suite.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh local,test .venv/.installed-test
exec .venv/bin/python -m pytest "$@"
