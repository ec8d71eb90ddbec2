#include "html_flags.hpp"

#include "libquant/core/output_guard.hpp"

namespace cli {

void HtmlFlags::add_to(CLI::App* sub, const std::string& what) {
  sub->add_option(
      "--html", path,
      "Also write " + what + " as one self-contained HTML page (inline SVG plots, no network, no JavaScript)");
  sub->add_flag("--force", force, "Replace an existing --html file (otherwise exit 9)");
}

std::unique_ptr<libquant::jobs::HtmlReportFile> HtmlFlags::open(
    const std::vector<std::filesystem::path>& inputs) const {
  if (path.empty()) return nullptr;
  libquant::require_output_apart_from_inputs(path, inputs);
  return std::make_unique<libquant::jobs::HtmlReportFile>(path, force);
}

}  // namespace cli
