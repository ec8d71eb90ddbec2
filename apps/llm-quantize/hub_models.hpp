#pragma once
// MODEL arguments that name a Hugging Face Hub repository (`org/name[@rev][:QUANT]`):
// each command marks its model arguments; after parsing, those that are not
// local paths are fetched through libquant's hub client and replaced by the
// snapshot path. The hub settings come from the usual environment variables.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli_output.hpp"

namespace cli {

// The HF_* environment as huggingface_hub reads it: HF_ENDPOINT, HF_TOKEN (or
// the token file `huggingface-cli login` writes), HF_HOME, HF_HUB_CACHE,
// HF_HUB_OFFLINE.
void read_hub_environment(GlobalOptions& g);
// `--gguf-file NAME`: which GGUF of a GGUF-only repository to use.
void add_hub_flags(CLI::App& app, GlobalOptions& g);

// How much of a hub model a command needs: all of it, or (info) headers only.
enum class HubNeed { Whole, HeadersOnly };
// Marks a parsed option (MODEL, ORIGINAL, ...) as one that may be a hub id.
CLI::Option* model_argument(CLI::Option* opt, std::string* value, HubNeed need = HubNeed::Whole);
CLI::Option* model_argument(CLI::Option* opt, std::vector<std::string>* values);

// Fetches every marked argument of the parsed command that names a hub
// repository and is not a local path. Scratch space (info) lives until exit.
void resolve_hub_models(const GlobalOptions& g);

// The repository's name ("SmolLM2-135M") for a path that came from the hub, else "".
std::string hub_display_name(const std::string& path);
// The name to show for a model argument: the hub repository's, else the path's last component.
std::string display_file_name(const std::string& path);

}  // namespace cli
