// `llm-quantize convert INPUT FORMAT`: between checkpoint formats without
// choosing a quantization — GGUF → Hugging Face safetensors (hf), HF or
// compressed-tensors → GGUF in the source's float type (gguf). gptq/awq are
// planned (exit 8); an existing output needs --force (exit 9).
#include <cstdio>
#include <filesystem>
#include <optional>

#include "commands.hpp"
#include "hub_models.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/core/read_file.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"
#include "libquant/jobs/convert_to_hf.hpp"
#include "libquant/jobs/result_json.hpp"
#include "libquant/model/model_config.hpp"
#include "smoothquant_flags.hpp"

namespace cli {
namespace {
namespace fs = std::filesystem;
using libquant::DType;
using libquant::Error;
using libquant::ErrorCode;

struct ConvertFlags {
  std::string input, format, output_dir = ".", output_name, dtype = "auto", max_shard_size = "5GB";
  bool force = false;
  unsigned threads = 0;
};

std::optional<DType> parse_dtype(const std::string& s) {
  if (s == "auto") return std::nullopt;
  if (s == "f32") return DType::F32;
  if (s == "f16") return DType::F16;
  if (s == "bf16") return DType::BF16;
  throw Error(ErrorCode::InvalidArgument, "--dtype '" + s + "' is not f32, f16, bf16 or auto", "");
}

// GGUF file type for an HF input: its own float width (f32 stays f32, bf16 stays bf16, the rest f16).
std::string gguf_type_for(const ConvertFlags& f) {
  if (const auto d = parse_dtype(f.dtype)) return *d == DType::F32 ? "F32" : *d == DType::BF16 ? "BF16" : "F16";
  const fs::path cfg = fs::path(f.input) / "config.json";
  if (!fs::is_regular_file(cfg)) return "F16";
  const libquant::model::ModelConfig c = libquant::model::describe_hf_config(
      libquant::read_whole_file(cfg, ErrorCode::ValidationFailed, "config.json", 64u << 20));
  return c.torch_dtype == "float32" ? "F32" : c.torch_dtype == "bfloat16" ? "BF16" : "F16";
}

void refuse_existing(const fs::path& out, bool force) {
  if (fs::exists(out) && !force)
    throw Error(ErrorCode::CancelledAfterQualityWarning, "'" + out.string() + "' exists",
                "Pass --force to replace it, or choose another --output-name");
}

int run_to_hf(const GlobalOptions& g, const ConvertFlags& f) {
  libquant::jobs::ConvertToHfOptions o;
  o.input = f.input;
  o.output = fs::path(f.output_dir) / (f.output_name.empty() ? model_stem(f.input) + "-hf" : f.output_name);
  o.dtype = parse_dtype(f.dtype);
  o.force = f.force;
  o.max_shard_bytes = parse_size(f.max_shard_size, "--max-shard-size");
  libquant::TerminalProgress progress(progress_enabled(g));
  o.progress = &progress;
  const auto r = libquant::jobs::convert_gguf_to_hf(o);
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success");
    libquant::jobs::write_json(j, r);
    j.end_object();
    print_json(j);
  } else {
    std::printf("Complete: %s (%lld tensors, %s, %s)\n", r.output.string().c_str(), static_cast<long long>(r.tensors),
                r.torch_dtype.c_str(), human_size(r.output_bytes).c_str());
  }
  return 0;
}

int run_to_gguf(const GlobalOptions& g, const ConvertFlags& f) {
  if (fs::path(f.input).extension() == ".gguf")
    throw Error(ErrorCode::UnsupportedConversion, "'" + f.input + "' already is a GGUF file",
                "Use `quantize " + f.input + " gguf -q TYPE` to change its type");
  libquant::jobs::ConvertToGgufOptions o;
  o.input = f.input;
  o.model_name = hub_display_name(f.input);  // a hub snapshot is named by its commit
  o.file_type = gguf_type_for(f);
  const std::string name = f.output_name.empty() ? model_stem(f.input) + "-" + o.file_type + ".gguf" : f.output_name;
  o.output = fs::path(f.output_dir) / name;
  refuse_existing(o.output, f.force);
  o.threads = f.threads;
  libquant::TerminalProgress progress(progress_enabled(g));
  o.progress = &progress;
  const auto r = libquant::jobs::convert_to_gguf(o);
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object().field("status", "success");
    libquant::jobs::write_json(j, r);
    j.end_object();
    print_json(j);
  } else {
    std::printf("Complete: %s (%s, %s)\n", r.output_path.string().c_str(), o.file_type.c_str(),
                human_size(r.file_size).c_str());
  }
  return 0;
}

int run_convert(const GlobalOptions& g, const ConvertFlags& f) {
  if (f.format == "hf" || f.format == "safetensors") return run_to_hf(g, f);
  if (f.format == "gguf") return run_to_gguf(g, f);
  throw Error(ErrorCode::UnsupportedConversion, "conversion to " + f.format + " is planned, not implemented yet",
              "Available: hf (GGUF -> safetensors checkpoint), gguf (HF / compressed-tensors -> GGUF)");
}

}  // namespace

Command register_convert(CLI::App& app, const GlobalOptions& g) {
  auto f = std::make_shared<ConvertFlags>();
  CLI::App* sub = app.add_subcommand(
      "convert", "Convert between checkpoint formats without re-quantizing: GGUF -> HF safetensors, HF -> GGUF");
  model_argument(
      sub->add_option("INPUT_MODEL", f->input, "GGUF file (-> hf), or HF checkpoint directory or hub id (-> gguf)")
          ->required(),
      &f->input);
  sub->add_option("OUTPUT_FORMAT", f->format,
                  "hf (alias safetensors): a checkpoint directory transformers loads; gguf: the source's float type; "
                  "gptq, awq: planned (exit 8)")
      ->required()
      ->check(CLI::IsMember({"hf", "safetensors", "gguf", "gptq", "awq"}));
  sub->add_option("-o,--output-dir", f->output_dir, "Output directory")->capture_default_str();
  sub->add_option("-n,--output-name", f->output_name,
                  "Output name (default: <model>-hf directory, or <model>-<TYPE>.gguf)");
  sub->add_option("--dtype", f->dtype,
                  "Float type written: auto (the source's: F32/BF16 files stay so, quantized GGUF types become f16), "
                  "f32, f16, bf16")
      ->capture_default_str();
  sub->add_option("--max-shard-size", f->max_shard_size, "hf: safetensors shard size (e.g. 5GB, 500MB)")
      ->capture_default_str();
  sub->add_flag("--force", f->force, "Replace an existing output (otherwise exit 9)");
  sub->add_option("--threads", f->threads, "Worker threads (0 = all cores)");
  return {sub, [&g, f] { return run_convert(g, *f); }};
}

}  // namespace cli
