#pragma once
// Each command group registers its CLI11 subcommand; parsing fills an options
// struct and the callback calls one libquant job.
#include <CLI/CLI.hpp>

#include "cli_output.hpp"

#include <functional>
#include <vector>

namespace cli {

// A registered subcommand and what to run when it was chosen. Work runs after
// parsing has finished, so global options are already applied.
struct Command {
  CLI::App* sub = nullptr;
  std::function<int()> run;
};

Command register_quantize(CLI::App& app, const GlobalOptions& g);
Command register_info(CLI::App& app, const GlobalOptions& g);
Command register_convert(CLI::App& app, const GlobalOptions& g);
Command register_quality(CLI::App& app, const GlobalOptions& g);
Command register_tokenize(CLI::App& app, const GlobalOptions& g);
// `quality report` and `quality compare`, added under the `quality` subcommand.
std::vector<Command> register_quality_reports(CLI::App& quality, const GlobalOptions& g);
Command register_coherence(CLI::App& quality, const GlobalOptions& g);
Command register_logits(CLI::App& quality);
Command register_analyze(CLI::App& app, const GlobalOptions& g);
// `profile list | show | create | validate`.
std::vector<Command> register_profile(CLI::App& app, const GlobalOptions& g);
// `littlebit compress | info | convert | validate`.
std::vector<Command> register_littlebit(CLI::App& app, const GlobalOptions& g);

}  // namespace cli
