#include "hub_files.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "hub_cache.hpp"
#include "libquant/core/error.hpp"

namespace libquant::io::hub {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }
bool top_level(std::string_view path) { return path.find('/') == std::string_view::npos; }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Config, tokenizer and generation files the loaders read (top level only).
bool is_small_file(std::string_view path) {
  if (!top_level(path)) return false;
  for (std::string_view ext : {".json", ".model", ".txt", ".jinja", ".tiktoken"})
    if (ends_with(path, ext)) return true;
  return false;
}

// "Q4_K_M" matches "model-Q4_K_M.gguf" or "model.q4_k_m.gguf", not "model-Q4_K_M_L.gguf".
bool gguf_matches_quant(std::string_view path, std::string_view quant) {
  const std::string name = upper(path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1));
  const std::string q = upper(quant);
  for (size_t at = name.find(q); at != std::string::npos; at = name.find(q, at + 1)) {
    const bool left_ok = at == 0 || name[at - 1] == '-' || name[at - 1] == '.' || name[at - 1] == '_';
    const size_t after = at + q.size();
    const bool right_ok =
        name.compare(after, std::string::npos, ".GGUF") == 0 || name[after] == '-' || name[after] == '.';
    if (left_ok && right_ok) return true;
  }
  return false;
}

// "name-00001-of-00003.gguf": llama.cpp's split files.
bool is_split_gguf_part(std::string_view path) {
  constexpr std::string_view kShape = "-#####-of-#####.gguf";
  if (path.size() < kShape.size()) return false;
  const std::string_view tail = path.substr(path.size() - kShape.size());
  for (size_t i = 0; i < kShape.size(); ++i)
    if (kShape[i] == '#' ? !std::isdigit(static_cast<unsigned char>(tail[i])) : kShape[i] != tail[i]) return false;
  return true;
}

std::string list_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 20; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 20) out += ", ...";
  return out;
}

std::vector<std::string> shards_of_index(const std::string& json, const std::string& index_name) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  simdjson::dom::object map;
  if (parser.parse(padded).get(root) || root["weight_map"].get_object().get(map))
    throw Error(ErrorCode::ValidationFailed, index_name + " has no valid 'weight_map' object",
                "The repository's index is damaged; report it to the model's authors");
  std::set<std::string> files;
  for (auto field : map) {
    std::string_view file;
    if (field.value.get_string().get(file))
      throw Error(ErrorCode::ValidationFailed,
                  index_name + ": tensor '" + std::string(field.key) + "' maps to a non-string",
                  "The repository's index is damaged; report it to the model's authors");
    check_repo_path(file, "shard name");
    files.insert(std::string(file));
  }
  return {files.begin(), files.end()};
}

}  // namespace

ModelFiles select_model_files(const std::vector<std::string>& present, const HubModelRef& ref,
                              const std::string& gguf_file,
                              const std::function<std::string(const std::string&)>& read_file) {
  const std::set<std::string> all(present.begin(), present.end());
  std::vector<std::string> ggufs, safetensors;
  for (const auto& p : present) {
    if (ends_with(p, ".gguf")) ggufs.push_back(p);
    if (ends_with(p, ".safetensors") && top_level(p)) safetensors.push_back(p);
  }
  ModelFiles out;
  if (!gguf_file.empty() || !ref.quant.empty()) {
    std::vector<std::string> chosen;
    if (!gguf_file.empty()) {
      if (all.count(gguf_file)) chosen.push_back(gguf_file);
    } else {
      for (const auto& g : ggufs)
        if (gguf_matches_quant(g, ref.quant)) chosen.push_back(g);
    }
    const std::string asked = gguf_file.empty() ? "a GGUF file for '" + ref.quant + "'" : "'" + gguf_file + "'";
    if (chosen.empty())
      throw Error(
          ErrorCode::ModelNotFound, ref.repo_id + " has no " + asked,
          ggufs.empty()
              ? "The repository has no GGUF files; ask for the model itself, without a GGUF file name or :QUANT suffix"
              : "Its GGUF files: " + list_names(ggufs));
    if (chosen.size() > 1)
      throw Error(ErrorCode::InvalidArgument, ref.repo_id + " has several GGUF files for '" + ref.quant + "'",
                  "Name one by its file name: " + list_names(chosen));
    out.weights = chosen;
    out.gguf = true;
  } else if (!safetensors.empty()) {
    for (const auto& p : present)
      if (is_small_file(p)) out.small.push_back(p);
    if (all.count("model.safetensors.index.json")) {
      out.weights = shards_of_index(read_file("model.safetensors.index.json"), "model.safetensors.index.json");
      for (const auto& w : out.weights)
        if (!all.count(w))
          throw Error(ErrorCode::ValidationFailed,
                      ref.repo_id + ": the index names shard '" + w + "', which is not in the repository",
                      "The repository is incomplete; try another revision");
    } else if (all.count("model.safetensors")) {
      out.weights = {"model.safetensors"};
    } else {
      out.weights = safetensors;
    }
    if (!all.count("config.json"))
      throw Error(ErrorCode::UnsupportedConversion, ref.repo_id + " has safetensors weights but no config.json",
                  "Only transformers-style repositories (config.json + safetensors) or GGUF files are supported");
  } else if (ggufs.size() == 1) {
    out.weights = ggufs;
    out.gguf = true;
  } else if (ggufs.size() > 1) {
    throw Error(
        ErrorCode::InvalidArgument, ref.repo_id + " has " + std::to_string(ggufs.size()) + " GGUF files",
        "Name one by its file name, or by its quant as " + ref.repo_id + ":QUANT (e.g. :Q4_K_M): " + list_names(ggufs));
  } else if (all.count("pytorch_model.bin") || all.count("pytorch_model.bin.index.json")) {
    throw Error(ErrorCode::UnsupportedConversion, ref.repo_id + " has only PyTorch .bin weights",
                "Convert it to safetensors first (transformers: save_pretrained(safe_serialization=True))");
  } else {
    throw Error(ErrorCode::ModelNotFound, ref.repo_id + " has no model weights (no .safetensors or .gguf files)",
                "Check the repository name and revision");
  }
  for (const auto& w : out.weights)
    if (is_split_gguf_part(w))
      throw Error(ErrorCode::UnsupportedConversion, "'" + w + "' is one part of a split GGUF",
                  "Merge the parts with llama-gguf-split --merge, or pick a single-file GGUF");  // another tool's flag
  return out;
}

}  // namespace libquant::io::hub
