#pragma once
// HTML views of the quality and importance results: one self-contained page
// each (inline SVG, no script, nothing fetched; io/html_document.hpp), whose
// numbers are the JSON record's, also stored in data-* attributes.
//
//   quality_report_html   per-layer output error, bits per weight of each
//                         layer split by tensor, importance per layer and the
//                         super weights (when given), perplexity, KL and size
//   quality_compare_html  perplexity and KL divergence against file size for
//                         any number of files, with the Pareto frontier
//   analyze_html          importance heat map (layer x weight) and super weights
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "libquant/core/atomic_file.hpp"
#include "libquant/export.hpp"
#include "libquant/jobs/analyze.hpp"
#include "libquant/jobs/quality_report.hpp"
#include "libquant/methods/super_weights.hpp"

namespace libquant::jobs {

// What a page says about how it was made: the command line (as the caller
// quotes it) is shown verbatim.
struct ReportProvenance {
  std::string command;
};

// Optional views from `analyze`'s output, for the quality report.
struct ImportanceView {
  std::vector<ImportanceStatistics> weights;  // per weight, as AnalyzeResult::layers
  std::vector<methods::SuperWeight> super_weights;
};

// Per-weight statistics of an imatrix file (either layout), in its own order.
LIBQUANT_API std::vector<ImportanceStatistics> importance_of_file(const std::filesystem::path& imatrix);

LIBQUANT_API std::string quality_report_html(const QualityReport& report, const ImportanceView& importance,
                                             const ReportProvenance& provenance);
LIBQUANT_API std::string quality_compare_html(const std::vector<QualityReport>& reports,
                                              const ReportProvenance& provenance);
LIBQUANT_API std::string analyze_html(const AnalyzeResult& result, const ReportProvenance& provenance);

// An HTML report's output file, opened before the (long) work so that a bad
// path fails at once: an existing file is refused unless `overwrite`
// (Error CancelledAfterQualityWarning, exit 9), an unwritable directory
// throws Error(General). Nothing appears at the path until commit().
class LIBQUANT_API HtmlReportFile {
 public:
  HtmlReportFile(const std::filesystem::path& path, bool overwrite);
  ~HtmlReportFile();
  HtmlReportFile(const HtmlReportFile&) = delete;
  HtmlReportFile& operator=(const HtmlReportFile&) = delete;
  void commit(const std::string& html);
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  std::unique_ptr<AtomicFile> file_;
};

}  // namespace libquant::jobs
