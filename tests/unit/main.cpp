// Catch2's runner plus two options: `--backend all|cpu|cuda` picks the compute
// backends the [backend] conformance tests run on (as CTranslate2's tests take
// the device as a parameter), `--cuda-plugin FILE` the plugin they load. With LIBQUANT_REQUIRE_GPU=1 in the environment
// a missing CUDA backend fails those tests instead of being reported as skipped.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "backend_selection.hpp"
#include "libquant/backend/backend.hpp"

int main(int argc, char** argv) {
  Catch::Session session;
  using Catch::clara::Opt;
  std::string cuda_plugin;
  session.cli(session.cli() |
              Opt(test::backend_selection(),
                  "all|cpu|cuda")["--backend"]("compute backends of the [backend] tests (default all)") |
              Opt(cuda_plugin, "file")["--cuda-plugin"]("the libquant_cuda plugin to load (default: looked up)"));
  if (const int rc = session.applyCommandLine(argc, argv)) return rc;
  if (!cuda_plugin.empty()) libquant::backend::set_cuda_plugin_path(cuda_plugin);
  const std::string& b = test::backend_selection();
  if (b != "all" && b != "cpu" && b != "cuda") {
    Catch::cerr() << "--backend must be all, cpu or cuda, not '" << b << "'\n";
    return 2;
  }
  return session.run();
}
