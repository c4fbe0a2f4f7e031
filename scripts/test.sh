#!/usr/bin/env bash
# Set up a virtual environment with the project and its test tools, then run the suite.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# Install once, and again whenever pyproject.toml changes.
if [ ! -f .venv/.installed-test ] || [ pyproject.toml -nt .venv/.installed-test ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # First install compiles llama.cpp (llama-cpp-python) from source: a few minutes, once.
  # The multimodal part of llama.cpp is not used; skipping it saves about a quarter of that build.
  export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
  .venv/bin/python -m pip install --quiet -e ".[test]"
  touch .venv/.installed-test
fi
exec .venv/bin/python -m pytest "$@"
