// `quality report ORIGINAL QUANTIZED` and `quality compare ORIGINAL QUANTIZED...`:
// flag parsing and printing only; the work is libquant::jobs::quality_report.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string_view>
#include <iostream>

#include "commands.hpp"
#include "flag_checks.hpp"
#include "html_flags.hpp"
#include "hub_models.hpp"
#include "libquant/core/atomic_file.hpp"
#include "libquant/core/output_guard.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/jobs/quality_report.hpp"
#include "libquant/jobs/result_json.hpp"
#include "libquant/methods/super_weights.hpp"
#include "libquant/model/tensor_source.hpp"

namespace cli {
namespace {

struct ReportCliOptions {
  std::string original, data, output, imatrix, super_weights, metrics = "all";
  std::vector<std::string> quantized;
  int64_t ctx = 512, chunks = 16;
  bool include_layers = false;
  unsigned threads = 0;
  HtmlFlags html;
};

std::vector<std::filesystem::path> report_inputs(const ReportCliOptions& o) {
  std::vector<std::filesystem::path> in = {o.original, o.data, o.imatrix, o.super_weights};
  in.insert(in.end(), o.quantized.begin(), o.quantized.end());
  return in;
}

// The importance view of the HTML report, from `analyze`'s outputs when given.
libquant::jobs::ImportanceView importance_view(const ReportCliOptions& o) {
  libquant::jobs::ImportanceView v;
  if (!o.imatrix.empty()) v.weights = libquant::jobs::importance_of_file(o.imatrix);
  if (!o.super_weights.empty()) v.super_weights = libquant::methods::load_super_weights(o.super_weights).found;
  return v;
}

libquant::jobs::QualityReport run_one(const GlobalOptions& g, const ReportCliOptions& o, const std::string& q,
                                      bool layers) {
  libquant::TerminalProgress progress(progress_enabled(g));
  auto opts = libquant::jobs::QualityReportOptions::defaults();
  opts.original = o.original;
  opts.quantized = q;
  opts.data = o.data;
  opts.ctx = o.ctx;
  opts.chunks = o.chunks;
  opts.include_layers = layers;
  opts.threads = o.threads;
  opts.progress = &progress;
  libquant::log_info("Evaluating " + q + " against " + o.original);
  return libquant::jobs::quality_report(opts);
}

int run_report(const GlobalOptions& g, const ReportCliOptions& o) {
  if (!o.output.empty()) libquant::require_output_apart_from_inputs(o.output, {o.original, o.quantized.at(0), o.data});
  const auto html = o.html.open(report_inputs(o));
  const auto importance = html ? importance_view(o) : libquant::jobs::ImportanceView{};  // bad files fail early
  const auto r = run_one(g, o, o.quantized.at(0), o.include_layers);
  if (html) html->commit(libquant::jobs::quality_report_html(r, importance, {g.command_line}));
  libquant::JsonWriter j(2);
  j.begin_object().field("status", "success");
  libquant::jobs::write_json(j, r);
  j.end_object();
  if (!o.output.empty()) {
    libquant::AtomicFile f(o.output);
    const std::string text = j.str() + "\n";
    f.write(text.data(), text.size());
    f.commit();
  }
  if (g.mode == OutputMode::Json) {
    print_json(j);
    return 0;
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "Perplexity: %.4f -> %.4f (%+.2f%%)\nKL divergence: %.6f +/- %.6f   same top-1: %.2f%%\n"
                "Size: %s -> %s (ratio %.3f)   bpw: %.3f -> %.3f\n",
                r.perplexity_original, r.perplexity_quantized, r.perplexity_delta_pct, r.mean_kld, r.kld_error,
                100 * r.same_top_p, human_size(r.size_original).c_str(), human_size(r.size_quantized).c_str(),
                r.compression_ratio, r.bpw_original, r.bpw_quantized);
  std::cout << line;
  if (!r.layers.empty()) {
    std::cout << "\nlayer              mixer             bits     mse          max error    relative\n";
    for (const auto& l : r.layers) {
      std::snprintf(line, sizeof line, "%-18s %-17s %-8.3f %-12.4g %-12.4g %.4f\n", l.layer_name.c_str(),
                    l.mixer.c_str(), l.bit_width, l.mse, l.max_error, l.relative_error);
      std::cout << line;
    }
    if (r.by_mixer.size() > 1)  // a hybrid: each kind's mean apart
      for (const auto& m : r.by_mixer) {
        std::snprintf(line, sizeof line, "mean relative error, %s layers (%lld): %.4f\n", m.mixer.c_str(),
                      static_cast<long long>(m.layers), m.mean_relative_error);
        std::cout << line;
      }
  }
  return 0;
}

// One column of `compare`'s table: the --metrics group it belongs to, its header and its cell text.
struct CompareColumn {
  std::string_view group, human, csv;
  int width;
  std::function<std::string(const libquant::jobs::QualityReport&, bool csv)> cell;
};

std::string printed(const char* format, double v) {
  char b[64];
  std::snprintf(b, sizeof b, format, v);
  return b;
}

const std::vector<CompareColumn>& compare_columns() {
  using R = libquant::jobs::QualityReport;
  static const std::vector<CompareColumn> columns = {
      {"perplexity", "PPL", "perplexity", 10,
       [](const R& r, bool csv) { return printed(csv ? "%.6f" : "%.4f", r.perplexity_quantized); }},
      {"perplexity", "delta%", "delta_pct", 9,
       [](const R& r, bool csv) { return printed(csv ? "%.4f" : "%+.2f", r.perplexity_delta_pct); }},
      {"kld", "KLD", "mean_kld", 10, [](const R& r, bool) { return printed("%.6f", r.mean_kld); }},
      {"kld", "top-1%", "same_top_p", 8,
       [](const R& r, bool csv) { return csv ? printed("%.6f", r.same_top_p) : printed("%.2f", 100 * r.same_top_p); }},
      {"size", "size", "file_size", 11,
       [](const R& r, bool csv) { return csv ? std::to_string(r.size_quantized) : human_size(r.size_quantized); }},
      {"bpw", "bpw", "bpw", 0, [](const R& r, bool csv) { return printed(csv ? "%.4f" : "%.3f", r.bpw_quantized); }},
  };
  return columns;
}

// The model column and the columns of the groups --metrics names ("all": every one), as text or CSV.
void print_compare_table(const std::vector<libquant::jobs::QualityReport>& reps, const std::string& metrics, bool csv) {
  std::vector<std::string> groups;  // the comma-separated names
  std::stringstream list(metrics);
  for (std::string m; std::getline(list, m, ',');) groups.push_back(m);
  const auto wanted = [&](std::string_view group) {
    return std::any_of(groups.begin(), groups.end(), [&](const std::string& m) { return m == "all" || m == group; });
  };
  std::vector<const CompareColumn*> shown;
  for (const auto& c : compare_columns())
    if (wanted(c.group)) shown.push_back(&c);
  const auto pad = [](std::string text, int width) {
    if (static_cast<int>(text.size()) < width) text.resize(static_cast<size_t>(width), ' ');
    return text + " ";
  };
  std::string header = csv ? std::string("model") : pad("model", 42);
  for (const auto* c : shown) {
    if (csv) header.push_back(',');
    header.append(csv ? std::string(c->csv) : pad(std::string(c->human), c->width));
  }
  const auto line = [](std::string text) {  // without the last column's padding
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text + "\n";
  };
  std::cout << line(header);
  for (const auto& r : reps) {
    std::string row = csv ? r.quantized : pad(r.quantized, 42);
    for (const auto* c : shown) {
      if (csv) row.push_back(',');
      row.append(csv ? c->cell(r, true) : pad(c->cell(r, false), c->width));
    }
    std::cout << line(row);
  }
}

int run_compare(const GlobalOptions& g, const ReportCliOptions& o) {
  const auto html = o.html.open(report_inputs(o));
  // Every file is opened (headers validated) before the first is evaluated: a missing or broken
  // last file fails in a second, not after the others' evaluations.
  for (const auto& q : o.quantized) libquant::model::open_tensor_source(q);
  std::vector<libquant::jobs::QualityReport> reps;
  for (const auto& q : o.quantized) reps.push_back(run_one(g, o, q, false));
  if (html) html->commit(libquant::jobs::quality_compare_html(reps, {g.command_line}));
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success").field("original_model", o.original).key("models").begin_array();
    for (const auto& r : reps) {
      j.begin_object().field("quantized_model", r.quantized).key("metrics");
      libquant::jobs::write_metrics_json(j, r);
      j.end_object();
    }
    j.end_array().end_object();
    print_json(j);
    return 0;
  }
  print_compare_table(reps, o.metrics, g.csv);
  if (!g.csv && !reps.empty()) {
    char line[256];
    std::snprintf(line, sizeof line, "original: PPL %.4f, %s, %.3f bpw\n", reps[0].perplexity_original,
                  human_size(reps[0].size_original).c_str(), reps[0].bpw_original);
    std::cout << line;
  }
  return 0;
}

void add_common(CLI::App* sub, ReportCliOptions& o) {
  sub->add_option("--data,--calibration-data", o.data, "Evaluation text (exit 15 when unreadable)")->required();
  sub->add_option("--ctx", o.ctx, "Tokens per chunk")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{16}, int64_t{1} << 20));
  sub->add_option("--chunks,--calibration-samples", o.chunks, "Chunks of the text evaluated")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  sub->add_option("--threads", o.threads, "Threads (0 = all cores)")->capture_default_str()->check(cli::thread_count());
}

}  // namespace

std::vector<Command> register_quality_reports(CLI::App& quality, const GlobalOptions& g) {
  auto ro = std::make_shared<ReportCliOptions>();
  CLI::App* report = quality.add_subcommand("report", "Quality of a quantized model against its original");
  model_argument(
      report->add_option("ORIGINAL", ro->original, "Original model (HF directory, .gguf or hub id)")->required(),
      &ro->original);
  model_argument(report->add_option("QUANTIZED", ro->quantized, "Quantized model (.gguf, HF directory or hub id)")
                     ->required()
                     ->expected(1),
                 &ro->quantized);
  add_common(report, *ro);
  report->add_flag("--include-layers", ro->include_layers, "Per-layer output error on the original's inputs");
  report->add_option("-o,--output", ro->output, "Also write the JSON report to this file");
  ro->html.add_to(report, "the report (per-layer error, bits per layer and tensor, importance, perplexity and size)");
  report
      ->add_option("--imatrix", ro->imatrix,
                   "Importance matrix from `analyze` (either layout): the HTML page "
                   "then shows the importance per layer")
      ->check(CLI::ExistingFile);
  report
      ->add_option("--super-weights", ro->super_weights,
                   "Super weights JSON from `analyze --identify-super-weights`: marked on the HTML page")
      ->check(CLI::ExistingFile);

  auto co = std::make_shared<ReportCliOptions>();
  CLI::App* compare = quality.add_subcommand("compare", "Compare several quantized models against the original");
  model_argument(compare->add_option("ORIGINAL", co->original, "Original model")->required(), &co->original);
  model_argument(compare->add_option("QUANTIZED", co->quantized, "Quantized models (files, directories or hub ids)")
                     ->required()
                     ->expected(1, 64),
                 &co->quantized);
  add_common(compare, *co);
  co->html.add_to(compare, "perplexity and KL divergence against file size for every file");
  compare
      ->add_option("--metrics", co->metrics,
                   "Columns of the table (comma-separated): perplexity, kld, size, bpw, or all. All are computed; "
                   "JSON keeps every field")
      ->capture_default_str()
      ->check([](const std::string& v) {
        std::stringstream list(v);
        for (std::string m; std::getline(list, m, ',');)
          if (m != "perplexity" && m != "kld" && m != "size" && m != "bpw" && m != "all")
            return "unknown metric '" + m + "' (perplexity, kld, size, bpw, all)";
        return std::string();
      });
  return {{report, [&g, ro] { return run_report(g, *ro); }}, {compare, [&g, co] { return run_compare(g, *co); }}};
}

}  // namespace cli
