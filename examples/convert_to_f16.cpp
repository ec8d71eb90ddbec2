// Converts a Hugging Face checkpoint (or a GGUF file) to a GGUF file with the
// library API: F16 by default, or any llama-quantize type (Q4_K_M, ...).
#include <cstdio>

#include <libquant/libquant.hpp>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL OUT.gguf [TYPE]\n", argv[0]);
    return 2;
  }
  try {
    auto opts = libquant::jobs::ConvertToGgufOptions::defaults();
    opts.input = argv[1];
    opts.output = argv[2];
    opts.file_type = argc == 4 ? argv[3] : "F16";
    const auto res = libquant::jobs::convert_to_gguf(opts);
    std::printf("wrote %s: %llu bytes, %zu tensors\n", res.output_path.c_str(),
                static_cast<unsigned long long>(res.file_size), res.tensors.size());
    return 0;
  } catch (const libquant::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_code();
  }
}
