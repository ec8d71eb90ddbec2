#include "library_wording.hpp"

#include <map>

namespace cli {
namespace {

// Library option (as its messages write it) -> what sets it on the command line.
const std::map<std::string_view, std::string_view>& cli_terms() {
  static const std::map<std::string_view, std::string_view> m = {
      {"ctx", "--ctx"},
      {"batch", "--batch"},
      {"rank", "--rank"},
      {"target_bpw", "--target-bpw"},
      {"target_size_bytes", "--target-size-bytes"},
      {"resume", "--resume"},
      {"checkpoint_dir", "--checkpoint-dir"},
      {"checkpoint_dir = none", "--no-checkpoints"},
      {"layout", "--layout"},
      {"file_type = dynamic", "-q dynamic"},
      {"profile", "--profile"},
      {"imatrix", "--imatrix"},
      {"input_imatrices", "--in-file"},
      {"allow_requantize", "--allow-requantize"},
      {"kl_data", "--kl-data"},
      {"kl_tokens", "--kl-refine"},
      {"dtype", "--dtype"},
      {"force", "--force"},
      {"Device::Cpu", "--device cpu"},
      {"Device::Auto", "--device auto"},
      {"analyze", "llm-quantize analyze MODEL -o imatrix.dat"},
      {"identify_super_weights", "--identify-super-weights"},
      {"super_weights", "--super-weights"},
      {"profile_to_json", "llm-quantize profile show balanced --format json"},
      {"preset_profiles", "llm-quantize profile list"},
      {"method = rtn", "--rtn"},
      {"alpha", "--alpha"},
      {"smooth", "--smoothquant"},
      {"block_options.steps = 0", "--block-steps 0"},
      {"ggml_numerics = false", "--blas"},
      {"save_logits", "quality perplexity --save-logits"},
      {"samples", "--calibration-samples"},
      {"seq_len", "--calibration-seq-len"},
      {"littlebit_compress", "llm-quantize littlebit compress"},
      {"format", "--format"},
      {"quality_threshold", "--quality-threshold"},
      {"keep_type", "--keep-type"},
  };
  return m;
}

}  // namespace

std::string in_cli_terms(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find('`', i);
    const size_t close = open == std::string_view::npos ? open : text.find('`', open + 1);
    if (close == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, open - i));
    const std::string_view term = text.substr(open + 1, close - open - 1);
    const auto it = cli_terms().find(term);
    if (it != cli_terms().end())
      out.append(it->second);
    else
      out.append(text.substr(open, close - open + 1));
    i = close + 1;
  }
  return out;
}

}  // namespace cli
