// Catch2's runner plus one option: `--backend all|cpu|cuda` picks the compute
// backends the [backend] conformance tests run on (as CTranslate2's tests take
// the device as a parameter). With LIBQUANT_REQUIRE_GPU=1 in the environment a
// missing CUDA backend fails those tests instead of being reported as skipped.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "backend_selection.hpp"

int main(int argc, char** argv) {
  Catch::Session session;
  using Catch::clara::Opt;
  session.cli(session.cli() |
              Opt(test::backend_selection(), "all|cpu|cuda")["--backend"]("compute backends of the [backend] tests (default all)"));
  if (const int rc = session.applyCommandLine(argc, argv)) return rc;
  const std::string& b = test::backend_selection();
  if (b != "all" && b != "cpu" && b != "cuda") {
    Catch::cerr() << "--backend must be all, cpu or cuda, not '" << b << "'\n";
    return 2;
  }
  return session.run();
}
