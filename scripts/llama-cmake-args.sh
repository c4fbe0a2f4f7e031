#!/usr/bin/env sh
# Print the CMAKE_ARGS that build llama.cpp (llama-cpp-python) portably for this CPU architecture.
# Why: llama.cpp's default is -march=native, and a build that uses every instruction the CPU
# advertises died with SIGILL (illegal instruction) on VMs that advertise AVX-512/AMX the OS
# cannot run. x86-64 gets a fixed AVX2/FMA/F16C baseline (any x86-64 CPU since ~2015); other
# architectures (aarch64 ...) get the compiler's generic baseline. The multimodal part (LLaVA)
# is not used by the bot and is skipped (a quarter of the compile time).
case "$(uname -m)" in
  x86_64|amd64)
    echo "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF" ;;
  *)
    echo "-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF" ;;
esac
