#pragma once
// `--html FILE` and `--force` of the commands that draw a report page
// (quality report, quality compare, analyze). The file is opened before the
// work starts, so an existing file (exit 9) or an unwritable directory
// (exit 1) is reported at once and nothing partial is ever left behind.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "libquant/jobs/html_reports.hpp"

namespace cli {

struct HtmlFlags {
  std::string path;
  bool force = false;

  void add_to(CLI::App* sub, const std::string& what);
  // Null without --html; refuses an output that is one of `inputs`.
  std::unique_ptr<libquant::jobs::HtmlReportFile> open(const std::vector<std::filesystem::path>& inputs) const;
};

}  // namespace cli
