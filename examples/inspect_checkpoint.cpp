// Prints what a checkpoint is: the library side of `llm-quantize info`.
#include <cstdio>

#include <libquant/libquant.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL (HF directory or .gguf)\n", argv[0]);
    return 2;
  }
  try {
    const libquant::jobs::ModelInfo info = libquant::jobs::inspect_model(argv[1]);
    std::printf("libquant %s\n", libquant::version_string());
    std::printf("architecture %s\nparameters %llu\nlayers %lld\n", info.architecture.c_str(),
                static_cast<unsigned long long>(info.parameter_count), static_cast<long long>(info.num_layers));
    return 0;
  } catch (const libquant::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_code();
  }
}
