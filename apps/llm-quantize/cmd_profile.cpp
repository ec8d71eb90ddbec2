// `llm-quantize profile list | show | create | validate`: dynamic quantization
// profiles (.dqprofile). Flag parsing and printing only; the work is
// libquant::methods::*profile* and libquant::jobs::plan_gguf.
#include <cstdio>
#include <iostream>
#include <regex>

#include "commands.hpp"
#include "environment.hpp"
#include "hub_models.hpp"
#include "flag_checks.hpp"
#include "libquant/core/dtype.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/output_guard.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"
#include "libquant/methods/quant_profile.hpp"

namespace cli {
namespace fs = std::filesystem;
using libquant::Error;
using libquant::ErrorCode;
namespace methods = libquant::methods;

namespace {

struct ProfileOptions {
  std::string profile, model, imatrix, name, output;
  std::optional<double> target_bpw;
  std::optional<uint64_t> target_size_bytes;
  std::vector<std::string> candidates;
  int64_t sample_rows = 256;
  unsigned threads = 0;
};

std::string type_name(libquant::DType t) { return std::string(libquant::traits(t).name); }

std::string rule_text(const methods::ProfileRule& r) {
  std::string s;
  if (!r.tensor_class.empty()) s += "class " + r.tensor_class;
  if (r.first_layer || r.last_layer)
    s += std::string(s.empty() ? "" : ", ") + "layers " + std::to_string(r.first_layer.value_or(0)) + ".." +
         std::to_string(r.last_layer.value_or(-1));
  if (!r.pattern.empty()) s += std::string(s.empty() ? "" : ", ") + "tensor /" + r.pattern + "/";
  return s.empty() ? "any tensor" : s;
}

int run_list(const GlobalOptions& g) {
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success").key("profiles").begin_array();
    for (const auto& p : methods::preset_profiles())
      j.begin_object()
          .field("name", p.name)
          .field("strategy", p.strategy)
          .field("description", p.description)
          .end_object();
    j.end_array().end_object();
    print_json(j);
    return 0;
  }
  for (const auto& p : methods::preset_profiles()) std::printf("  %-17s %s\n", p.name.c_str(), p.description.c_str());
  return 0;
}

int run_show(const GlobalOptions& g, const ProfileOptions& o) {
  const methods::QuantProfile p = methods::load_profile(o.profile, env::profile_dirs());
  if (g.mode == OutputMode::Json) {  // a valid .dqprofile: save it to start a custom one
    std::cout << methods::profile_to_json(p);
    return 0;
  }
  std::cout << "Profile: " << p.name << " (" << p.strategy << ")\n";
  if (!p.description.empty()) std::cout << p.description << "\n";
  for (size_t i = 0; i < p.rules.size(); ++i)
    std::printf("  %2zu. %-44s -> %s\n", i + 1, rule_text(p.rules[i]).c_str(), type_name(p.rules[i].type).c_str());
  std::cout << "  default: " << (p.default_type ? type_name(*p.default_type) : "the reference mixture's type") << "\n";
  if (p.target_bpw)
    std::printf("  target: %.3f bpw (rules pin what they match; the rest is allocated)\n", *p.target_bpw);
  return 0;
}

libquant::jobs::ConvertToGgufOptions plan_options(const ProfileOptions& o) {
  auto opts = libquant::jobs::ConvertToGgufOptions::defaults();
  opts.input = o.model;
  opts.file_type = "dynamic";
  opts.threads = o.threads;
  opts.allow_requantize = true;  // planning reads the weights; nothing is written
  if (!o.imatrix.empty()) opts.imatrix = o.imatrix;
  return opts;
}

std::string escape_regex(const std::string& s) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return "^" + std::regex_replace(s, special, R"(\$&)") + "$";
}

int run_create(const GlobalOptions& g, const ProfileOptions& o) {
  if (o.model.empty())
    throw Error(ErrorCode::InvalidArgument, "profile create needs --model",
                "The allocation quantizes the model's weights to measure each type's error: add --model MODEL");
  if (!o.target_bpw && !o.target_size_bytes)
    throw Error(ErrorCode::InvalidArgument, "profile create needs --target-bpw or --target-size-bytes",
                "Example: --target-bpw 3.5");
  const fs::path out = o.output.empty() ? fs::path(o.name + ".dqprofile") : fs::path(o.output);
  libquant::require_output_apart_from_inputs(out, {o.model, o.imatrix});
  libquant::TerminalProgress progress(progress_enabled(g));
  auto opts = plan_options(o);
  libquant::jobs::DynamicQuantOptions d;
  d.target_bpw = o.target_bpw;
  d.target_size_bytes = o.target_size_bytes;
  d.sample_rows = o.sample_rows;
  for (const auto& c : o.candidates) d.candidates.push_back(parse_ggml_type(c, "--candidates"));
  opts.dynamic = d;
  opts.progress = &progress;
  const auto plan = libquant::jobs::plan_gguf(opts);

  // One exact rule per quantized tensor: the profile reproduces this plan on this model.
  methods::QuantProfile p;
  p.name = o.name;
  p.strategy = "custom";
  char desc[256];
  std::snprintf(desc, sizeof desc, "allocated for %s at %.3f bpw (%llu bytes)%s", display_file_name(o.model).c_str(),
                plan.effective_bpw(), static_cast<unsigned long long>(plan.file_size),
                o.imatrix.empty() ? "" : " with an importance matrix");
  p.description = desc;
  p.candidates = d.candidates;
  for (const auto& t : plan.tensors)
    if (libquant::traits(t.type).is_quantized)
      p.rules.push_back({escape_regex(t.name), "", std::nullopt, std::nullopt, t.type});
  methods::save_profile(p, out);
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object()
        .field("status", "success")
        .field("output_path", fs::absolute(out).string())
        .field("profile_name", p.name)
        .field("rules", static_cast<uint64_t>(p.rules.size()))
        .field("file_size", plan.file_size)
        .field("effective_bpw", plan.effective_bpw())
        .end_object();
    print_json(j);
  } else {
    libquant::log_info("Profile: " + p.description);
    std::cout << out.string() << "\n";
  }
  return 0;
}

int run_validate(const GlobalOptions& g, const ProfileOptions& o) {
  const methods::QuantProfile p = methods::load_profile(o.profile, env::profile_dirs());
  auto opts = plan_options(o);
  opts.profile = p;
  const auto plan = libquant::jobs::plan_gguf(opts);
  const int n_layers = static_cast<int>(plan.layers_processed);
  std::vector<size_t> hits(p.rules.size(), 0);
  std::vector<std::string> fallbacks;
  const methods::ProfileMatcher matcher(p, n_layers);
  for (const auto& t : plan.tensors) {
    if (!t.profile_rule) continue;
    const auto r = matcher.rule_index(t.name);
    if (!r) continue;
    ++hits[*r];
    if (p.rules[*r].type != t.type)
      fallbacks.push_back(t.name + ": " + type_name(p.rules[*r].type) + " does not fit rows of " +
                          std::to_string(t.shape.row_length()) + ", " + type_name(t.type) + " instead");
  }
  std::vector<std::string> unused;
  for (size_t i = 0; i < p.rules.size(); ++i)
    if (!hits[i])
      unused.push_back("rule " + std::to_string(i + 1) + " (" + rule_text(p.rules[i]) + ") matches no tensor");
  const double bpw = plan.effective_bpw();
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object()
        .field("status", "success")
        .field("valid", true)
        .field("profile_name", p.name)
        .field("file_size", plan.file_size)
        .field("effective_bpw", bpw);
    j.key("rule_matches").begin_array();
    for (size_t h : hits) j.value(static_cast<uint64_t>(h));
    j.end_array().key("warnings").begin_array();
    for (const auto& w : unused) j.value(w);
    for (const auto& w : fallbacks) j.value(w);
    j.end_array().key("tensors").begin_array();
    for (const auto& t : plan.tensors)
      j.begin_object()
          .field("name", t.name)
          .field("type", type_name(t.type))
          .field("from_rule", t.profile_rule)
          .end_object();
    j.end_array().end_object();
    print_json(j);
    return 0;
  }
  std::printf("Profile %s is valid for %s: %s, %.3f bpw\n", p.name.c_str(), o.model.c_str(),
              human_size(plan.file_size).c_str(), bpw);
  for (size_t i = 0; i < p.rules.size(); ++i)
    std::printf("  rule %zu: %-44s -> %-7s %zu tensors\n", i + 1, rule_text(p.rules[i]).c_str(),
                type_name(p.rules[i].type).c_str(), hits[i]);
  for (const auto& w : unused) libquant::log_warning(w);
  for (const auto& w : fallbacks) libquant::log_warning(w);
  return 0;
}

}  // namespace

std::vector<Command> register_profile(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<ProfileOptions>();
  CLI::App* group = app.add_subcommand("profile", "Dynamic quantization profiles: list, show, create, validate");
  group->require_subcommand(1);
  std::vector<Command> out;

  CLI::App* list = group->add_subcommand("list", "List the preset profiles");
  out.push_back({list, [&g] { return run_list(g); }});

  CLI::App* show = group->add_subcommand("show", "Show a profile's rules (--format json prints a .dqprofile)");
  show->add_option("PROFILE_NAME", o->profile, "Preset name or .dqprofile path")->required();
  out.push_back({show, [&g, o] { return run_show(g, *o); }});

  CLI::App* create =
      group->add_subcommand("create", "Allocate types per tensor for a model and save them as a profile");
  create->add_option("--name", o->name, "Profile name")->required();
  create->add_option("--imatrix", o->imatrix, "Importance matrix (.dat or GGUF imatrix)")->required();
  model_argument(create->add_option("--model", o->model,
                                    "The model the profile is for (its weights are quantized to measure errors)"),
                 &o->model);
  create->add_option("--target-bpw", o->target_bpw, "Bits per weight of the whole file")
      ->check(cli::finite_range(1.0, 16.0));
  create->add_option("--target-size-bytes,--target-size", o->target_size_bytes, "File size to stay under, in bytes")
      ->check(CLI::PositiveNumber);
  create->add_option("--candidates", o->candidates, "Types to choose from (comma-separated)")->delimiter(',');
  create->add_option("--sample-rows", o->sample_rows, "Rows per tensor whose error is measured")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  create->add_option("-o,--output", o->output, "Output path (default NAME.dqprofile)");
  create->add_option("--threads", o->threads, "Threads (0 = all cores)")->check(cli::thread_count());
  out.push_back({create, [&g, o] { return run_create(g, *o); }});

  CLI::App* validate = group->add_subcommand("validate", "Check a profile against a model: matches, fallbacks, size");
  validate->add_option("PROFILE", o->profile, "Preset name or .dqprofile path")->required();
  model_argument(validate->add_option("MODEL", o->model, "Model to validate against")->required(), &o->model);
  validate->add_option("--imatrix", o->imatrix, "Importance matrix (needed when the profile allocates a target)");
  validate->add_option("--threads", o->threads, "Threads (0 = all cores)")->check(cli::thread_count());
  out.push_back({validate, [&g, o] { return run_validate(g, *o); }});
  return out;
}

}  // namespace cli
