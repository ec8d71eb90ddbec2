// `llm-quantize info MODEL`: what a checkpoint is (HF directory or GGUF file).
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "hub_models.hpp"
#include "libquant/jobs/model_info.hpp"
#include "libquant/jobs/result_json.hpp"

namespace cli {

namespace {
struct InfoOptions {
  std::string model;
  bool tensors = false;
};

// The token mixers that are not attention: Mamba-2's state-space layers, or a hybrid's linear-attention layers.
std::string mixer_line(const libquant::jobs::ModelInfo& info) {
  if (info.ssm_heads == 0) return "";
  const std::string heads = std::to_string(info.ssm_heads) + " value heads x " + std::to_string(info.ssm_head_dim);
  if (info.recurrent_layers > 0)
    return "Linear-attention layers (gated DeltaNet): " + std::to_string(info.recurrent_layers) + " of " +
           std::to_string(info.num_layers) + " (" + heads + ", " + std::to_string(info.ssm_groups) + " key heads x " +
           std::to_string(info.ssm_state_size) + ")\n";
  return "State-space mixers: " + std::to_string(info.ssm_heads) + " heads x " + std::to_string(info.ssm_head_dim) +
         ", state " + std::to_string(info.ssm_state_size) + ", " + std::to_string(info.ssm_groups) + " groups\n";
}

int run_info(const GlobalOptions& g, const InfoOptions& o) {
  const libquant::jobs::ModelInfo info = libquant::jobs::inspect_model(o.model);
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object();
    libquant::jobs::ResultJsonOptions detail;
    detail.per_tensor = o.tensors;
    libquant::jobs::write_json(j, info, detail);
    j.end_object();
    print_json(j);
    return 0;
  }
  std::cout << "Model: " << info.model_name << "\n"
            << "Format: "
            << (info.format == "gguf"        ? "GGUF"
                : info.format == "littlebit" ? "LittleBit (.littlebit)"
                                             : "Hugging Face (safetensors)")
            << "\n"
            << "Architecture: " << info.architecture << "\n"
            << "Parameters: " << with_commas(info.parameter_count) << "\n"
            << "Hidden Size: " << info.hidden_size << "\n"
            << "Layers: " << info.num_layers << "\n"
            << "Heads: " << info.num_heads << "\n"
            << "KV Heads: " << info.num_kv_heads << "\n"
            << (info.num_experts ? "Experts: " + std::to_string(info.num_experts) + " (" +
                                       std::to_string(info.num_experts_used) + " per token)\n"
                                 : std::string())
            << mixer_line(info) << "Vocab Size: " << info.vocab_size << "\n"
            << "Dtype: " << info.dtype << "\n"
            << (info.quantization.empty() ? "" : "Quantization: " + info.quantization + "\n")
            << "File Size: " << human_size(info.file_size) << "\n";
  char bpw[32];
  std::snprintf(bpw, sizeof bpw, "%.4f", info.bits_per_weight);
  std::cout << "Bits per Weight: " << bpw << "\n";
  if (!info.note.empty()) std::cout << "Note: " << info.note << "\n";
  if (o.tensors) {
    std::cout << "\n";
    for (const auto& t : info.tensors) {
      char line[256];
      std::snprintf(line, sizeof line, "%-40s %-8s %-16s %s\n", t.name.c_str(), t.type.c_str(),
                    t.shape.to_string().c_str(), human_size(t.nbytes).c_str());
      std::cout << line;
    }
  }
  return 0;
}
}  // namespace

Command register_info(CLI::App& app, const GlobalOptions& g) {
  auto opts = std::make_shared<InfoOptions>();
  CLI::App* sub =
      app.add_subcommand("info", "Show a model's architecture, size and tensors (HF directory or GGUF file)");
  model_argument(sub->add_option("MODEL", opts->model,
                                 "Hugging Face checkpoint directory, .gguf file, or hub id org/name[@revision][:QUANT] "
                                 "(only headers are fetched)")
                     ->required(),
                 &opts->model, HubNeed::HeadersOnly);
  sub->add_flag("--tensors", opts->tensors, "List every tensor with its shape and type");
  return {sub, [&g, opts] { return run_info(g, *opts); }};
}

}  // namespace cli
