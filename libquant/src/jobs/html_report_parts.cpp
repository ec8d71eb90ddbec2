#include "html_report_parts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "libquant/model/tensor_naming.hpp"

namespace libquant::jobs::html {

std::string weight_kind(const std::string& gguf_name) {
  std::string s = gguf_name;
  if (s.size() > 7 && s.compare(s.size() - 7, 7, ".weight") == 0) s.resize(s.size() - 7);
  if (model::gguf_layer_index(gguf_name)) {  // "blk.N." prefix
    const size_t dot = s.find('.', 4);
    if (dot != std::string::npos) s = s.substr(dot + 1);
  }
  return s;
}

std::vector<std::string> numbered(int n, const std::string& prefix) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(std::max(n, 0)));
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

std::string human_bytes(uint64_t bytes) {
  char b[32];
  const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  if (mib >= 1024)
    std::snprintf(b, sizeof b, "%.2f GiB", mib / 1024);
  else if (mib >= 1)
    std::snprintf(b, sizeof b, "%.2f MiB", mib);
  else
    std::snprintf(b, sizeof b, "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  return b;
}

std::string shown(double v) {
  char b[32];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)  // counts and sizes: every digit
    std::snprintf(b, sizeof b, "%.0f", v);
  else
    std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

std::pair<std::string, std::string> number_attribute(std::string key, double v) {
  return {std::move(key), io::html_number(v)};
}

void command_section(io::HtmlDocument& doc, const ReportProvenance& provenance) {
  doc.heading("Command");
  doc.preformatted(provenance.command.empty() ? "(not recorded)" : provenance.command, "command");
}

void super_weight_table(io::HtmlDocument& doc, const std::vector<methods::SuperWeight>& found) {
  io::HtmlTable t{"super-weights", {"tensor", "layer", "row", "column", "value", "activation", "share", "kind"}, {}};
  for (const auto& s : found)
    t.rows.push_back({{s.tensor, std::to_string(s.layer), std::to_string(s.row), std::to_string(s.col), shown(s.value),
                       shown(s.activation), shown(s.share), s.kind},
                      {{"tensor", s.tensor},
                       {"layer", std::to_string(s.layer)},
                       {"row", std::to_string(s.row)},
                       {"col", std::to_string(s.col)},
                       number_attribute("value", s.value),
                       number_attribute("activation", s.activation),
                       number_attribute("input-activation", s.input_activation),
                       number_attribute("share", s.share),
                       {"kind", s.kind}}});
  if (found.empty())
    doc.paragraph("No super weight was found.");
  else
    doc.table(t);
}

}  // namespace libquant::jobs::html
