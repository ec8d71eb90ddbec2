// `analyze --html`: the importance heat map and the super weights; and the
// report file every HTML page is written through.
#include <algorithm>
#include <map>

#include "html_report_parts.hpp"
#include "libquant/core/error.hpp"
#include "libquant/io/svg_chart.hpp"
#include "libquant/jobs/html_reports.hpp"
#include "libquant/methods/importance_matrix.hpp"
#include "libquant/model/tensor_naming.hpp"

namespace libquant::jobs {

std::vector<ImportanceStatistics> importance_of_file(const std::filesystem::path& imatrix) {
  const methods::ImportanceMatrix m = methods::ImportanceMatrix::load(imatrix);
  std::vector<ImportanceStatistics> out;
  out.reserve(m.entries().size());
  for (const auto& e : m.entries()) out.push_back(importance_statistics(e.name, e.mean()));
  return out;
}

std::string analyze_html(const AnalyzeResult& r, const ReportProvenance& provenance) {
  io::HtmlDocument doc("Importance analysis: " + (r.model.empty() ? r.output_path.string() : r.model.string()),
                       "analyze", {{"model", r.model.string()}, {"output", r.output_path.string()}});
  io::HtmlTable s{"summary", {"measure", "value"}, {}};
  const std::vector<std::pair<std::string, double>> summary = {{"num_entries", static_cast<double>(r.entries)},
                                                               {"chunks", static_cast<double>(r.chunks)},
                                                               {"tokens", static_cast<double>(r.tokens)},
                                                               {"global_min", r.global.min},
                                                               {"global_max", r.global.max},
                                                               {"global_mean", r.global.mean},
                                                               {"global_std", r.global.std}};
  for (const auto& [k, v] : summary)
    s.rows.push_back({{k, html::shown(v)}, {{"key", k}, html::number_attribute("value", v)}});
  doc.paragraph(
      "Importance = per-column mean of x^2 over the calibration tokens (llama-imatrix's statistic), written "
      "to " +
      r.output_path.string() + ".");
  doc.table(s);

  // Rows: decoder layers, then one row for the weights outside them; columns: weight kinds in model order.
  std::vector<std::string> cols;
  std::map<std::string, size_t> col_of;
  int layers = 0;
  bool other = false;
  for (const auto& w : r.layers) {
    const std::string kind = html::weight_kind(w.name);
    if (!col_of.count(kind)) {
      col_of[kind] = cols.size();
      cols.push_back(kind);
    }
    if (const auto l = model::gguf_layer_index(w.name))
      layers = std::max(layers, *l + 1);
    else
      other = true;
  }
  // Columns in the order of a block's computation, whatever order the matrix has.
  static const std::vector<std::string> order = {"attn_norm",   "attn_q",   "attn_k",   "attn_v", "attn_qkv",
                                                 "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"};
  const auto rank = [&](const std::string& c) {
    return static_cast<size_t>(std::find(order.begin(), order.end(), c) - order.begin());
  };
  std::stable_sort(cols.begin(), cols.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  for (size_t c = 0; c < cols.size(); ++c) col_of[cols[c]] = c;
  std::vector<std::string> rows = html::numbered(layers, "layer ");
  if (other) rows.push_back("outside layers");
  std::vector<io::HeatCell> cells;
  for (const auto& w : r.layers) {
    const auto l = model::gguf_layer_index(w.name);
    cells.push_back({l ? static_cast<size_t>(*l) : static_cast<size_t>(layers),
                     col_of.at(html::weight_kind(w.name)),
                     w.mean,
                     w.name + ": mean " + html::shown(w.mean) + ", max " + html::shown(w.max) + " (column " +
                         std::to_string(w.top_column) + "), std " + html::shown(w.std),
                     {{"weight", w.name},
                      {"columns", std::to_string(w.columns)},
                      html::number_attribute("min", w.min),
                      html::number_attribute("max", w.max),
                      html::number_attribute("mean", w.mean),
                      html::number_attribute("std", w.std),
                      {"top-column", std::to_string(w.top_column)}}});
  }
  doc.heading("Importance per layer and weight");
  doc.markup(io::heat_map({"plot-importance-map", "Mean importance of each weight's inputs (log colour scale)", "",
                           "mean x^2 (log scale)", true},
                          rows, cols, cells));
  doc.heading("Super weights");
  if (r.super_weights_path.empty())
    doc.paragraph("Super weights were not searched for in this analysis.");
  else
    html::super_weight_table(doc, r.super_weights);
  html::command_section(doc, provenance);
  return doc.finish();
}

HtmlReportFile::HtmlReportFile(const std::filesystem::path& path, bool overwrite) : path_(path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !overwrite)
    throw Error(ErrorCode::CancelledAfterQualityWarning, "'" + path.string() + "' exists",
                "Choose another file, or set `force` to replace it");
  if (std::filesystem::is_directory(path, ec))
    throw Error(ErrorCode::InvalidArgument, "'" + path.string() + "' is a directory",
                "Give a file name ending in .html");
  file_ = std::make_unique<AtomicFile>(path);  // fails now, before any work, when the directory is not writable
}

HtmlReportFile::~HtmlReportFile() = default;

void HtmlReportFile::commit(const std::string& html) {
  check(file_ != nullptr, ErrorCode::General, "the HTML report was already written");
  file_->write(html.data(), html.size());
  file_->commit();
  file_.reset();
}

}  // namespace libquant::jobs
