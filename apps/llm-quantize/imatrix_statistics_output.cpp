#include "imatrix_statistics_output.hpp"

#include <cstdio>

#include "cli_output.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/core/log.hpp"
#include "libquant/jobs/result_json.hpp"
#include "libquant/methods/activation_statistics.hpp"

namespace cli {

int show_imatrix_statistics(const GlobalOptions& g, const std::string& imatrix) {
  const auto m = libquant::methods::ImportanceMatrix::load(imatrix);
  const auto s = libquant::methods::activation_statistics(m);
  if (s.tensors.empty())
    throw libquant::Error(libquant::ErrorCode::ImatrixInvalid, "'" + imatrix + "' has no weight with activations",
                          "Compute the importance matrix again (analyze)");
  for (const auto& name : s.skipped) libquant::log_warning("no activations for '" + name + "'");
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success").field("imatrix", imatrix);
    libquant::jobs::write_json(j, s);
    j.end_object();
    print_json(j);
    return 0;
  }
  std::printf("%5s  %-20s %12s %10s %12s %8s %8s %9s %6s %10s %8s %9s %8s\n", "Layer", "Tensor", "Sum(Act^2)", "Min",
              "Max", "Mean", "Std", "% Active", "N", "Entropy", "E(norm)", "ZD", "CosSim");
  for (const auto& t : s.tensors)
    std::printf("%5s  %-20s %12.2f %10.4f %12.4f %8.2f %8.2f %8.2f%% %6lld %10.4f %7.2f%% %8.2f%% %8.4f\n",
                t.layer.c_str(), t.tensor.c_str(), t.sum, t.min, t.max, t.mean, t.stddev, t.active * 100.0f,
                static_cast<long long>(t.elements), t.entropy, t.entropy_norm, 100.0f * t.zd, t.cossim);
  std::printf("\n%5s  %14s %10s %8s\n", "Layer", "Mean Sum(Act^2)", "Mean ZD", "CosSim");
  for (const auto& l : s.layers)
    std::printf("%5d  %14.2f %9.4f%% %8.4f\n", l.layer, l.mean_sum, 100.0f * l.zd, l.cossim);
  return 0;
}

}  // namespace cli
