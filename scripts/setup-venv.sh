#!/usr/bin/env bash
# Create .venv and install the project with the given extras, once (again when pyproject.toml changes).
# Usage: bash scripts/setup-venv.sh EXTRAS STAMP      e.g. bash scripts/setup-venv.sh local,test .venv/.installed-test
# With the `local` extra, llama-cpp-python (the embedded model's runtime) is compiled first, portably
# (scripts/llama-cmake-args.sh), with a notice and progress, because it takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="$1"
STAMP="$2"
PY="${PYTHON:-python3}"
# Keep in step with the `local` extra in pyproject.toml.
LLAMA_REQUIREMENT="llama-cpp-python>=0.3.2"

case ",$EXTRAS," in *,local,*) LOCAL=1 ;; *) LOCAL=0 ;; esac
LLAMA_ARGS="${CMAKE_ARGS:-$(sh scripts/llama-cmake-args.sh)}"

[ -x .venv/bin/python ] || "$PY" -m venv .venv
if [ -f "$STAMP" ] && [ ! pyproject.toml -nt "$STAMP" ] \
    && { [ "$LOCAL" = 0 ] || [ "$(cat .venv/.llama-build 2>/dev/null)" = "$LLAMA_ARGS" ]; }; then
  exit 0
fi
.venv/bin/python -m pip install --quiet --upgrade pip

case "$LOCAL" in
  1)
    # The marker records how the installed llama.cpp was built: a build from before (natively, with
    # -march=native, possibly crashing with SIGILL) or with other flags is rebuilt.
    if [ "$(cat .venv/.llama-build 2>/dev/null)" != "$LLAMA_ARGS" ] || ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
      # Measured on 2 vCPUs, empty pip cache (README "Quick start"): ~2-3 min idle, 32 min under load 15-20.
      echo "Compiling the embedded model's runtime (llama.cpp), once: about 3 minutes on 2 idle cores, up to 30 on a busy machine."
      echo "(With OPENAI_API_KEY and no embedded model, install with: .venv/bin/pip install -e .  No compiler needed.)"
      .venv/bin/python -m pip uninstall --quiet --yes llama-cpp-python 2>/dev/null || true
      LOG=.venv/llama-build.log
      # --no-cache-dir: pip's wheel cache is keyed by the source archive, not by CMAKE_ARGS, so a
      # wheel compiled earlier with -march=native would be reused. --no-binary: always our flags.
      # -v streams the compiler's "[n/N]" lines, which the filter turns into a percentage.
      start=$SECONDS
      if ! CMAKE_ARGS="$LLAMA_ARGS" .venv/bin/python -m pip install -v --no-cache-dir --no-binary llama-cpp-python \
          "$LLAMA_REQUIREMENT" 2>&1 | tee "$LOG" | awk -v start="$start" '
            match($0, /\[[0-9]+\/[0-9]+\]/) {
              split(substr($0, RSTART + 1, RLENGTH - 2), nt, "/")
              pct = int(100 * nt[1] / nt[2])
              if (pct >= shown + 10 || nt[1] == nt[2]) { shown = pct - pct % 10; printf "  compiling llama.cpp: %3d%% (%d/%d files)\n", pct, nt[1], nt[2]; fflush() }
            }
            /Successfully installed.*llama/ { print "  " $0; fflush() }'; then
        echo "Compiling llama.cpp failed; the last lines of $LOG:" >&2
        tail -n 25 "$LOG" >&2
        exit 1
      fi
      echo "  done in $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s"
      echo "$LLAMA_ARGS" > .venv/.llama-build
    fi
    ;;
esac

.venv/bin/python -m pip install --quiet -e ".[$EXTRAS]"
touch "$STAMP"
