// llm-quantize: a thin command-line front end over libquant. It parses flags,
// calls one library job and prints its result; all logic lives in libquant.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <variant>
#include <iostream>

#include "cli_output.hpp"
#include "commands.hpp"
#include "environment.hpp"
#include "flag_checks.hpp"
#include "hub_models.hpp"
#include "library_wording.hpp"
#include "libquant/backend/backend.hpp"
#include "libquant/core/cpu_features.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"
#include "libquant/version.hpp"

namespace {

// The output mode must be known even when parsing fails, to report the
// failure as JSON; look for it in argv directly.
cli::OutputMode sniff_mode(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--format=json") == 0) return cli::OutputMode::Json;
    if (std::strcmp(argv[i], "--format") == 0 && i + 1 < argc && std::strcmp(argv[i + 1], "json") == 0)
      return cli::OutputMode::Json;
  }
  return cli::OutputMode::Human;
}

libquant::Verbosity parse_verbosity(const std::string& v) {
  if (v == "quiet") return libquant::Verbosity::Quiet;
  if (v == "verbose") return libquant::Verbosity::Verbose;
  if (v == "debug") return libquant::Verbosity::Debug;
  return libquant::Verbosity::Normal;
}

// The library's messages, as the tool's own stderr lines.
void log_to_stderr(libquant::LogLevel level, std::string_view library_msg) {
  const std::string msg = cli::in_cli_terms(library_msg);
  const char* prefix = level == libquant::LogLevel::Warning ? "warning: "
                       : level == libquant::LogLevel::Debug ? "debug: "
                                                            : "";
  std::fprintf(stderr, "[llm-quantize] %s%.*s\n", prefix, static_cast<int>(msg.size()), msg.data());
}

}  // namespace

int main(int argc, char** argv) {
  libquant::set_log_sink(log_to_stderr);
  cli::GlobalOptions g;
  g.mode = sniff_mode(argc, argv);
  g.command_line = cli::shell_command_line(argc, argv);
  cli::read_hub_environment(g);

  CLI::App app{"llm-quantize: compress large language models (GGUF, imatrix, LittleBit, ...)"};
  app.set_version_flag("--version", std::string("llm-quantize ") + libquant::version_string() + " (CPU SIMD: " +
                                        libquant::simd_level_name(libquant::detected_simd_level()) + ")");
  app.fallthrough();  // global options may also follow the subcommand
  app.require_subcommand(1);
  std::string format = "human";
  app.add_option("--format", format, "Output format: human (default), json, or csv (quality compare tables)")
      ->check(CLI::IsMember({"human", "json", "csv"}));
  app.add_option("--verbosity", g.verbosity, "Log level: quiet, normal (default), verbose, debug")
      ->check(CLI::IsMember({"quiet", "normal", "verbose", "debug"}));
  app.add_option("--device", g.device,
                 "Compute backend: auto (CUDA when the libquant_cuda plugin and a GPU are present, else CPU), cpu, "
                 "cuda (exit 8 when unavailable); $LLM_QUANTIZE_CUDA_PLUGIN names the plugin file")
      ->envname("LLM_QUANTIZE_DEVICE")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  std::string simd = "auto";
  app.add_option("--simd", simd,
                 "Highest CPU instruction set the kernels may use: auto (the best this CPU has), avx512, avx2, scalar. "
                 "Results do not change (the kernels agree bit for bit); lower it to compare paths")
      ->envname("LLM_QUANTIZE_SIMD")
      ->check(CLI::IsMember({"auto", "avx512", "avx2", "scalar"}))
      ->capture_default_str();
  cli::add_hub_flags(app, g);
  app.footer(
      "MODEL may be a Hugging Face Hub id, org/name[@revision][:QUANT]: files go to the huggingface_hub cache\n"
      "(HF_HUB_CACHE / HF_HOME) and are shared with transformers; HF_TOKEN, HF_ENDPOINT and HF_HUB_OFFLINE apply.\n"
      "Exit codes: 0 success, 1 general error, 2 invalid arguments, 3 model not found, 4 authentication required,\n"
      "6 validation failed, "
      "8 unsupported conversion (see docs/cli.md for the full list).");

  std::vector<cli::Command> commands = {cli::register_quantize(app, g), cli::register_info(app, g),
                                        cli::register_quality(app, g), cli::register_tokenize(app, g)};
  for (auto& c : cli::register_quality_reports(*app.get_subcommand("quality"), g)) commands.push_back(std::move(c));
  commands.push_back(cli::register_coherence(*app.get_subcommand("quality"), g));
  commands.push_back(cli::register_logits(*app.get_subcommand("quality")));
  commands.push_back(cli::register_analyze(app, g));
  commands.push_back(cli::register_convert(app, g));
  for (auto& c : cli::register_profile(app, g)) commands.push_back(std::move(c));
  for (auto& c : cli::register_littlebit(app, g)) commands.push_back(std::move(c));

  try {
    app.parse(argc, argv);
    cli::reject_non_finite_values(app);
    g.mode = format == "json" ? cli::OutputMode::Json : cli::OutputMode::Human;
    g.csv = format == "csv";
    libquant::set_verbosity(parse_verbosity(g.verbosity));
    if (simd != "auto") libquant::set_simd_limit(*libquant::parse_simd_level(simd));
    libquant::log_verbose(std::string("CPU kernels: ") + libquant::simd_level_name(libquant::simd_level()) +
                          " (this CPU supports " + libquant::simd_level_name(libquant::detected_simd_level()) + ")");
    libquant::backend::set_cuda_plugin_path(cli::env::cuda_plugin());
    libquant::backend::use_device(libquant::backend::parse_device(g.device));
    cli::resolve_hub_models(g);
    for (const auto& c : commands)
      if (c.sub->parsed()) return c.run();
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return cli::report_error(g, libquant::ErrorCode::InvalidArgument, e.what(), "Run with --help to see the usage");
  } catch (const libquant::Error& e) {
    return cli::report_error(g, e.code(), e.what(), e.suggestion());
  } catch (const std::bad_alloc&) {
    return cli::report_error(g, libquant::ErrorCode::OutOfMemory, "out of memory",
                             "Use a machine with more memory or a smaller model");
  } catch (const std::filesystem::filesystem_error& e) {
    const std::string path = e.path1().empty() ? std::string() : " '" + e.path1().string() + "'";
    return cli::report_error(g, libquant::ErrorCode::General, "file system error on" + path + ": " + e.code().message(),
                             "Check the path, its permissions and the free disk space");
  } catch (const std::length_error&) {
    // A container asked to grow beyond what can exist: a size taken from a file.
    return cli::report_error(g, libquant::ErrorCode::ValidationFailed, "the input declares an impossible size",
                             "The file is corrupt or crafted; re-create or re-download it");
  } catch (const std::bad_variant_access&) {
    return cli::report_error(g, libquant::ErrorCode::ValidationFailed, "the input holds a value of an unexpected type",
                             "The file is corrupt or crafted; re-create or re-download it");
  } catch (const std::exception& e) {
    return cli::report_error(g, libquant::ErrorCode::General, std::string("internal error: ") + e.what(),
                             "Please report this with the command that caused it");
  }
  return 0;
}
