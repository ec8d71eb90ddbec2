// `quality report --html` and `quality compare --html` pages.
#include <algorithm>
#include <filesystem>
#include <map>

#include "html_report_parts.hpp"
#include "libquant/io/svg_chart.hpp"
#include "libquant/jobs/html_reports.hpp"
#include "libquant/model/tensor_naming.hpp"

namespace libquant::jobs {
namespace {

using html::number_attribute;
using html::shown;

// The metrics record's keys (result_json_quality.cpp) with their values.
std::vector<std::pair<std::string, double>> metric_values(const QualityReport& r) {
  return {{"perplexity_original", r.perplexity_original},
          {"perplexity_quantized", r.perplexity_quantized},
          {"perplexity_delta_pct", r.perplexity_delta_pct},
          {"mean_kld", r.mean_kld},
          {"mean_kld_error", r.kld_error},
          {"same_top_p", r.same_top_p},
          {"effective_bpw", r.bpw_quantized},
          {"original_bpw", r.bpw_original},
          {"file_size", static_cast<double>(r.size_quantized)},
          {"original_size", static_cast<double>(r.size_original)},
          {"compression_ratio", r.compression_ratio},
          {"ctx", static_cast<double>(r.ctx)},
          {"chunks", static_cast<double>(r.chunks)},
          {"scored_tokens", static_cast<double>(r.scored_tokens)}};
}

std::string attribute_name(std::string key) {  // JSON key -> data-* name
  std::replace(key.begin(), key.end(), '_', '-');
  return key;
}

void summary_table(io::HtmlDocument& doc, const QualityReport& r) {
  io::HtmlTable t{"summary", {"measure", "value"}, {}};
  for (const auto& [k, v] : metric_values(r))
    t.rows.push_back({{k, shown(v)}, {{"key", k}, number_attribute("value", v)}});
  doc.table(t);
  io::HtmlTable files{"files", {"", "file", "type", "size", "bits per weight", "perplexity"}, {}};
  files.rows.push_back({{"original", r.original, r.type_original, html::human_bytes(r.size_original),
                         shown(r.bpw_original), shown(r.perplexity_original)},
                        {{"role", "original"}, {"type", r.type_original}}});
  files.rows.push_back({{"quantized", r.quantized, r.type_quantized, html::human_bytes(r.size_quantized),
                         shown(r.bpw_quantized), shown(r.perplexity_quantized)},
                        {{"role", "quantized"}, {"type", r.type_quantized}}});
  doc.table(files);
}

// The per-token KL divergence: order statistics and a histogram over decades.
void kl_section(io::HtmlDocument& doc, const QualityReport& r) {
  const KlDistribution& d = r.kld_distribution;
  doc.heading("KL divergence of the output, per token");
  io::HtmlTable t{"kld-distribution", {"statistic", "KL divergence"}, {}};
  for (const auto& [k, v] : std::vector<std::pair<std::string, double>>{{"min", d.min},
                                                                        {"median", d.median},
                                                                        {"p90", d.p90},
                                                                        {"p95", d.p95},
                                                                        {"p99", d.p99},
                                                                        {"p99_9", d.p99_9},
                                                                        {"max", d.max}})
    t.rows.push_back({{k, shown(v)}, {{"key", k}, number_attribute("value", v)}});
  doc.table(t);
  std::vector<std::string> names;
  std::vector<io::BarSegment> bars;
  names.reserve(d.histogram.size());
  for (size_t i = 0; i < d.histogram.size(); ++i) {
    const auto& b = d.histogram[i];
    names.push_back(shown(b.lower));  // a decade from here (the last bin: and above)
    bars.push_back({i,
                    static_cast<double>(b.tokens),
                    "tokens",
                    shown(b.lower) + " to " + shown(b.upper) + ": " + std::to_string(b.tokens) + " tokens",
                    {number_attribute("lower", b.lower),
                     number_attribute("upper", b.upper),
                     {"tokens", std::to_string(b.tokens)}}});
  }
  doc.markup(io::bar_chart({"plot-kld-histogram", "Scored tokens by KL divergence of the quantized model's output",
                            "KL divergence (nats): each bar from its value up to the next one", "tokens"},
                           names, bars));
}

void layer_error_section(io::HtmlDocument& doc, const QualityReport& r) {
  doc.heading("Per-layer output error");
  if (r.layers.empty()) {
    doc.paragraph("Per-layer errors were not measured for this report.");
    return;
  }
  doc.paragraph("Each quantized decoder layer run on the original's input; relative error = ||y_q - y|| / ||y - x||.");
  std::vector<std::string> names;
  std::vector<io::BarSegment> rel, mse;
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerError& l = r.layers[i];
    names.push_back(std::to_string(i));
    const io::DataAttributes data = {{"layer", l.layer_name},
                                     number_attribute("mse", l.mse),
                                     number_attribute("max-error", l.max_error),
                                     number_attribute("relative-error", l.relative_error),
                                     number_attribute("bit-width", l.bit_width),
                                     {"mixer", l.mixer}};
    const std::string tip = l.layer_name + " (" + l.mixer + "): relative error " + shown(l.relative_error) + ", MSE " +
                            shown(l.mse) + ", max " + shown(l.max_error) + ", " + shown(l.bit_width) + " bpw";
    rel.push_back({i, l.relative_error, l.mixer, tip, data});
    mse.push_back({i, l.mse, l.mixer, tip, data});
  }
  doc.markup(
      io::bar_chart({"plot-layer-error", "Relative output error per layer", "layer", "relative error"}, names, rel));
  doc.markup(io::bar_chart({"plot-layer-mse", "Output MSE per layer (log scale)", "layer", "MSE", true}, names, mse));
}

void bits_section(io::HtmlDocument& doc, const QualityReport& r) {
  doc.heading("Bits per weight of each layer, by tensor");
  int layers = 0;
  for (const auto& t : r.tensors) layers = std::max(layers, t.layer + 1);
  std::vector<uint64_t> params(static_cast<size_t>(layers));
  for (const auto& t : r.tensors)
    if (t.layer >= 0) params[static_cast<size_t>(t.layer)] += t.parameters;
  const std::vector<std::string> names = html::numbered(layers);
  // A segment is a tensor's share of its layer's bits, so the bar's height is the layer's bits per weight.
  std::vector<io::BarSegment> segs;
  io::HtmlTable other{"other-tensors", {"tensor", "type", "parameters", "size", "bits per weight"}, {}};
  for (const auto& t : r.tensors) {
    const double bpw = t.parameters ? 8.0 * static_cast<double>(t.bytes) / static_cast<double>(t.parameters) : 0.0;
    const io::DataAttributes data = {{"tensor", t.name},
                                     {"type", t.type},
                                     {"layer", std::to_string(t.layer)},
                                     {"parameters", std::to_string(t.parameters)},
                                     {"bytes", std::to_string(t.bytes)}};
    if (t.layer < 0) {
      other.rows.push_back(
          {{t.name, t.type, std::to_string(t.parameters), html::human_bytes(t.bytes), shown(bpw)}, data});
      continue;
    }
    const double share = 8.0 * static_cast<double>(t.bytes) / static_cast<double>(params[static_cast<size_t>(t.layer)]);
    segs.push_back({static_cast<size_t>(t.layer), share, t.type,
                    t.name + ": " + t.type + ", " + shown(bpw) + " bpw, " + html::human_bytes(t.bytes), data});
  }
  doc.markup(io::bar_chart(
      {"plot-bits", "Bits per weight per layer (segments: tensors, colour: type)", "layer", "bits per weight"}, names,
      segs));
  if (!other.rows.empty()) {
    doc.paragraph("Tensors outside the decoder layers:");
    doc.table(other);
  }
}

void importance_section(io::HtmlDocument& doc, const ImportanceView& v) {
  if (v.weights.empty() && v.super_weights.empty()) return;
  doc.heading("Importance per layer and super weights");
  std::map<int, std::pair<double, int>> per_layer;  // layer -> (sum of weight means, weights)
  int layers = 0;
  for (const auto& w : v.weights)
    if (const auto l = model::gguf_layer_index(w.name)) {
      per_layer[*l].first += w.mean;
      per_layer[*l].second += 1;
      layers = std::max(layers, *l + 1);
    }
  for (const auto& s : v.super_weights) layers = std::max(layers, s.layer + 1);
  const std::vector<std::string> names = html::numbered(layers);
  std::vector<io::BarSegment> bars;
  for (const auto& [l, acc] : per_layer) {
    const double mean = acc.first / acc.second;
    bars.push_back({static_cast<size_t>(l),
                    mean,
                    "importance",
                    "layer " + std::to_string(l) + ": mean importance " + shown(mean) + " over " +
                        std::to_string(acc.second) + " weights",
                    {{"layer", std::to_string(l)},
                     number_attribute("mean-importance", mean),
                     {"weights", std::to_string(acc.second)}}});
  }
  std::vector<io::BarMarker> marks;
  for (const auto& s : v.super_weights)
    marks.push_back({static_cast<size_t>(s.layer),
                     "super weight " + s.tensor + "[" + std::to_string(s.row) + ", " + std::to_string(s.col) +
                         "] = " + shown(s.value),
                     {{"tensor", s.tensor}, {"row", std::to_string(s.row)}, {"col", std::to_string(s.col)}}});
  doc.markup(io::bar_chart({"plot-importance",
                            "Mean importance (mean x^2 of the inputs) per layer; triangles: super "
                            "weights",
                            "layer", "mean importance", true},
                           names, bars, marks));
  html::super_weight_table(doc, v.super_weights);
}

void provenance_section(io::HtmlDocument& doc, const QualityReport& r) {
  if (r.provenance.empty()) return;
  doc.heading("How the quantized file was made (its own record)", 3);
  io::HtmlTable t{"file-provenance", {"key", "value"}, {}};
  for (const auto& [k, v] : r.provenance) t.rows.push_back({{k, v}, {{"key", k}}});
  doc.table(t);
}

}  // namespace

std::string quality_report_html(const QualityReport& r, const ImportanceView& importance,
                                const ReportProvenance& provenance) {
  io::HtmlDocument doc("Quality report: " + r.quantized, "quality-report",
                       {{"original", r.original}, {"quantized", r.quantized}});
  doc.paragraph("Against " + r.original + " on " + std::to_string(r.chunks) + " chunks of " + std::to_string(r.ctx) +
                " tokens (" + std::to_string(r.scored_tokens) + " scored). Perplexity " + shown(r.perplexity_original) +
                " -> " + shown(r.perplexity_quantized) + " (" + shown(r.perplexity_delta_pct) +
                " %), KL divergence of the output " + shown(r.mean_kld) + " +/- " + shown(r.kld_error) +
                ", same top token " + shown(100 * r.same_top_p) + " %.");
  summary_table(doc, r);
  kl_section(doc, r);
  layer_error_section(doc, r);
  bits_section(doc, r);
  importance_section(doc, importance);
  html::command_section(doc, provenance);
  provenance_section(doc, r);
  return doc.finish();
}

std::string quality_compare_html(const std::vector<QualityReport>& reports, const ReportProvenance& provenance) {
  const std::string original = reports.empty() ? std::string() : reports.front().original;
  io::HtmlDocument doc("Quality comparison against " + original, "quality-compare", {{"original", original}});
  io::HtmlTable t{
      "models",
      {"model", "type", "size", "bits per weight", "perplexity", "delta %", "KL divergence", "same top-1 %"},
      {}};
  std::vector<io::ScatterPoint> ppl, kld;
  bool kld_log = true;
  double kld_lo = 0, kld_hi = 0;
  for (const auto& r : reports) {
    io::DataAttributes data = {{"quantized-model", r.quantized}, {"file-type", r.type_quantized}};
    for (const auto& [k, v] : metric_values(r)) data.push_back(number_attribute(attribute_name(k), v));
    t.rows.push_back({{std::filesystem::path(r.quantized).filename().string(), r.type_quantized,
                       html::human_bytes(r.size_quantized), shown(r.bpw_quantized), shown(r.perplexity_quantized),
                       shown(r.perplexity_delta_pct), shown(r.mean_kld), shown(100 * r.same_top_p)},
                      data});
    const double mib = static_cast<double>(r.size_quantized) / (1024.0 * 1024.0);
    const std::string label = r.type_quantized.empty() ? r.quantized : r.type_quantized;
    ppl.push_back(
        {mib, r.perplexity_quantized, label,
         r.quantized + ": " + html::human_bytes(r.size_quantized) + ", perplexity " + shown(r.perplexity_quantized),
         data});
    kld.push_back({mib, r.mean_kld, label,
                   r.quantized + ": " + html::human_bytes(r.size_quantized) + ", KL divergence " + shown(r.mean_kld),
                   data});
    kld_log = kld_log && r.mean_kld > 0;
    kld_lo = kld.size() == 1 ? r.mean_kld : std::min(kld_lo, r.mean_kld);
    kld_hi = std::max(kld_hi, r.mean_kld);
  }
  doc.paragraph(std::to_string(reports.size()) + " files against " + original +
                (reports.empty() ? std::string()
                                 : " (perplexity " + shown(reports.front().perplexity_original) + ", " +
                                       html::human_bytes(reports.front().size_original) + ")") +
                ". Lower and further left is better; the dashed line joins the files no other file beats in both.");
  doc.table(t);
  io::ScatterOptions po;
  if (!reports.empty()) {
    po.reference_y = reports.front().perplexity_original;
    po.reference_label = "original " + shown(reports.front().perplexity_original);
  }
  doc.markup(
      io::scatter_chart({"plot-ppl-size", "Perplexity against file size", "file size (MiB)", "perplexity"}, ppl, po));
  doc.markup(io::scatter_chart({"plot-kld-size", "KL divergence of the output against file size", "file size (MiB)",
                                "mean KL divergence", kld_log && kld_hi > 100 * kld_lo},
                               kld));
  html::command_section(doc, provenance);
  return doc.finish();
}

}  // namespace libquant::jobs
