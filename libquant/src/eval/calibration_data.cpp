#include "libquant/core/read_file.hpp"
#include "libquant/eval/calibration_data.hpp"

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include "libquant/core/error.hpp"

namespace libquant::eval {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void bad(const std::string& what, const std::string& hint = "") {
  throw Error(ErrorCode::CalibrationDataError, "calibration data: " + what,
              hint.empty() ? "Use plain text, a JSON array of strings / {\"text\": ...} objects, or JSON lines" : hint);
}

std::string text_of(simdjson::dom::element e, const std::string& where) {
  std::string_view s;
  if (!e.get_string().get(s)) return std::string(s);
  simdjson::dom::object o;
  if (!e.get_object().get(o)) {
    if (!o["text"].get_string().get(s)) return std::string(s);
    bad(where + " has no string field \"text\"");
  }
  bad(where + " is neither a string nor an object with \"text\"");
}

}  // namespace

std::vector<std::string> read_calibration_documents(const fs::path& source) {
  const std::string text = read_whole_file(source, ErrorCode::CalibrationDataError, "calibration data");
  const std::string ext = source.extension().string();
  const std::string_view kind = ext == ".jsonl" || ext == ".ndjson" ? "jsonl" : ext == ".json" ? "json" : "text";
  return parse_calibration_documents(text, kind, "'" + source.string() + "'");
}

std::vector<std::string> parse_calibration_documents(const std::string& content, std::string_view kind,
                                                     const std::string& name) {
  std::vector<std::string> docs;
  simdjson::dom::parser parser;
  if (kind == "jsonl") {
    std::istringstream lines(content);
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      simdjson::padded_string p(line);
      simdjson::dom::element e;
      if (parser.parse(p).get(e)) bad("line " + std::to_string(n) + " of " + name + " is not valid JSON");
      docs.push_back(text_of(e, "line " + std::to_string(n)));
    }
  } else if (kind == "json") {
    simdjson::padded_string p(content);
    simdjson::dom::element root;
    if (parser.parse(p).get(root)) bad(name + " is not valid JSON");
    simdjson::dom::array arr;
    if (root.get_array().get(arr)) {
      simdjson::dom::object o;  // {"text": [...]} or {"data": [...]}
      if (root.get_object().get(o) || (o["text"].get_array().get(arr) && o["data"].get_array().get(arr)))
        bad(name + " is not an array of documents");
    }
    size_t i = 0;
    for (auto e : arr) docs.push_back(text_of(e, "entry " + std::to_string(i++)));
  } else {
    docs.push_back(content);
  }
  if (docs.empty()) bad(name + " holds no text");
  return docs;
}

std::vector<std::vector<int32_t>> load_calibration_samples(const Tokenizer& tok, const CalibrationOptions& opts) {
  check(opts.samples > 0 && opts.seq_len >= 2, ErrorCode::InvalidArgument,
        "calibration samples and length must be positive");
  std::vector<std::string> docs = opts.source.empty() ? std::vector<std::string>{default_calibration_text()}
                                                      : read_calibration_documents(opts.source);
  std::string joined;
  for (size_t i = 0; i < docs.size(); ++i) joined += (i ? "\n\n" : "") + docs[i];
  // In order (seed 0) only the first samples are used: only they are tokenized.
  const size_t needed = opts.seed == 0 ? static_cast<size_t>(opts.samples * opts.seq_len) : SIZE_MAX;
  const std::vector<int32_t> tokens = tok.encode_prefix(joined, tok.add_bos_by_default(), needed);
  const auto n_chunks = static_cast<int64_t>(tokens.size()) / opts.seq_len;
  if (n_chunks < 1 || (!opts.allow_fewer && n_chunks < opts.samples))
    bad("the text gives " + std::to_string(tokens.size()) + " tokens = " + std::to_string(n_chunks) + " samples of " +
            std::to_string(opts.seq_len) + ", " + std::to_string(opts.samples) + " are needed",
        "Provide more text, or fewer `samples` / a shorter `seq_len`");
  std::vector<int64_t> order(static_cast<size_t>(n_chunks));
  std::iota(order.begin(), order.end(), 0);
  if (opts.seed != 0) {
    std::mt19937_64 rng(opts.seed);
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);  // portable Fisher-Yates
  }
  order.resize(static_cast<size_t>(std::min(n_chunks, opts.samples)));
  std::vector<std::vector<int32_t>> out;
  for (int64_t c : order) {
    auto begin = tokens.begin() + c * opts.seq_len;
    out.emplace_back(begin, begin + opts.seq_len);
    if (tok.add_bos_by_default() && tok.bos_id() >= 0) out.back()[0] = tok.bos_id();
  }
  return out;
}

}  // namespace libquant::eval
