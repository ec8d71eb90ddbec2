// The evaluation engine against golden data: token ids from llama.cpp /
// sentencepiece / run.c, logits of an independent float64 forward, and
// llama-perplexity's result on the evaluation text.
#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include <catch2/catch.hpp>

#include "libquant/core/error.hpp"
#include "libquant/eval/calibration_data.hpp"
#include "libquant/eval/logits_file.hpp"
#include "libquant/eval/perplexity.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/eval/transformer.hpp"
#include "test_helpers.hpp"
#include "libquant/model/overlay_source.hpp"

using namespace libquant;

namespace {

// float32 C-order .npy -> values (header parsed minimally: version 1, '<f4').
std::vector<float> load_npy_f32(const std::filesystem::path& p) {
  const auto bytes = test::read_file(p);
  uint16_t hlen;
  std::memcpy(&hlen, bytes.data() + 8, 2);
  const std::string header(reinterpret_cast<const char*>(bytes.data() + 10), hlen);
  REQUIRE(header.find("'<f4'") != std::string::npos);
  const size_t off = 10 + hlen;
  std::vector<float> v((bytes.size() - off) / 4);
  std::memcpy(v.data(), bytes.data() + off, v.size() * 4);
  return v;
}

std::vector<int32_t> golden_logit_tokens() {
  simdjson::dom::parser parser;
  auto doc = parser.load((test::shared_dir() / "golden/stories260K/logits-eval64.json").string());
  std::vector<int32_t> ids;
  for (auto x : doc["tokens"].get_array()) ids.push_back(static_cast<int32_t>(int64_t(x)));
  return ids;
}

struct TokenCase {
  std::string name, text;
  std::vector<int32_t> ids;
};

std::vector<TokenCase> golden_token_cases() {
  simdjson::dom::parser parser;
  auto doc = parser.load((test::shared_dir() / "golden/stories260K/tokens.json").string());
  std::vector<TokenCase> out;
  for (auto e : doc["entries"].get_object()) {
    TokenCase c;
    c.name = std::string(e.key);
    c.text = std::string(std::string_view(e.value["text"]));
    for (auto x : e.value["ids"].get_array()) c.ids.push_back(static_cast<int32_t>(int64_t(x)));
    out.push_back(std::move(c));
  }
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

}  // namespace

TEST_CASE("tokenizers reproduce the golden ids (HF tokenizer.model and GGUF vocab)", "[eval][tokenizer]") {
  const auto cases = golden_token_cases();
  REQUIRE(cases.size() >= 8);
  for (const char* model : {"models/stories260K", "models/stories260K.gguf"}) {
    auto src = model::open_tensor_source(test::shared_dir() / model);
    auto tok = eval::load_tokenizer(*src);
    REQUIRE(tok->bos_id() == 1);
    for (const auto& c : cases) {
      INFO(model << " / " << c.name);
      REQUIRE(tok->encode(c.text, true) == c.ids);
    }
  }
}

TEST_CASE("forward logits equal the float64 golden within 1e-4", "[eval][forward]") {
  const auto golden = load_npy_f32(test::shared_dir() / "golden/stories260K/logits-eval64.npy");
  const auto ids = golden_logit_tokens();
  REQUIRE(ids.size() == 64);
  std::vector<float> whole;
  for (const char* model : {"models/stories260K", "models/stories260K.gguf"}) {
    for (bool streaming : {false, true}) {
      INFO(model << " streaming=" << streaming);
      auto src = model::open_tensor_source(test::shared_dir() / model);
      eval::ForwardOptions tf_options;
      tf_options.streaming = streaming;
      tf_options.threads = 2;
      eval::Transformer tf(*src, tf_options);
      const auto logits = tf.forward({ids});
      REQUIRE(max_abs_diff(logits, golden) < 1e-4);
      if (whole.empty()) whole = logits;
      REQUIRE(max_abs_diff(logits, whole) <= 1e-5);  // streaming == whole-model
    }
  }
}

TEST_CASE("batched sequences equal one-at-a-time, and logits_from selects positions", "[eval][forward]") {
  auto src = model::open_tensor_source(test::shared_dir() / "models/stories260K");
  eval::ForwardOptions tf_options;
  tf_options.streaming = false;
  tf_options.threads = 2;
  eval::Transformer tf(*src, tf_options);
  const auto ids = golden_logit_tokens();
  std::vector<int32_t> a(ids.begin(), ids.begin() + 32), b(ids.begin() + 32, ids.end());
  b[0] = 1;
  const auto both = tf.forward({a, b}, 16);
  const auto la = tf.forward({a}, 16), lb = tf.forward({b}, 16);
  std::vector<float> cat(la);
  cat.insert(cat.end(), lb.begin(), lb.end());
  REQUIRE(max_abs_diff(both, cat) < 1e-4);  // BLAS blocks differently for other row counts
  REQUIRE(both.size() == 2 * 16 * 512);
}

TEST_CASE("token NLL is log-sum-exp minus the target logit", "[eval]") {
  const float logits[3] = {1.0f, 2.0f, 3.0f};
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  REQUIRE(eval::token_nll(logits, 3, 0) == Approx(lse - 1.0).epsilon(1e-12));
  REQUIRE(eval::token_nll(logits, 3, 2) == Approx(lse - 3.0).epsilon(1e-12));
}

TEST_CASE("perplexity rejects too-short data with exit 15", "[eval][perplexity]") {
  const auto dir = test::scratch_dir("ppl-short");
  {
    std::ofstream f(dir / "short.txt");
    f << "Once upon a time.";
  }
  auto opts = eval::PerplexityOptions::defaults();
  opts.model = test::shared_dir() / "models/stories260K";
  opts.data = dir / "short.txt";
  opts.ctx = 256;
  try {
    eval::perplexity(opts);
    FAIL("accepted too-short data");
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::CalibrationDataError);
  }
}

TEST_CASE("KL base rows decode to log-probabilities within half a code step", "[eval][kl]") {
  std::vector<float> logits = {3.0f, -1.0f, 0.5f, -30.0f, 2.9f};
  std::vector<uint16_t> row(eval::logits_words_per_position(5));
  REQUIRE(row.size() == 2 * 3 + 4);  // odd vocabularies carry one padding word
  const double nll = eval::encode_log_probs(logits.data(), 5, 2, row.data());
  double lse = 0;
  for (float l : logits) lse += std::exp(static_cast<double>(l) - 3.0);
  lse = std::log(lse) + 3.0;
  REQUIRE(nll == Approx(lse - 0.5).epsilon(1e-6));
  std::vector<double> lp(5);
  eval::decode_log_probs(row.data(), 5, lp.data());
  const double step = 16.0 / 65535.0;  // the window spans 16 nats here (min logit clipped)
  for (int i = 0; i < 5; ++i) {
    if (logits[i] <= 3.0f - 16.0f) {
      REQUIRE(row[4 + i] == 0);  // below the window: stored as the floor
      continue;
    }
    REQUIRE(std::fabs(lp[i] - (logits[i] - lse)) <= 0.5 * step + 1e-5);
  }
}

TEST_CASE("calibration data: text, JSON, JSON lines, default; errors exit 15", "[eval][calibration]") {
  auto src = model::open_tensor_source(test::shared_dir() / "models/stories260K");
  auto tok = eval::load_tokenizer(*src);
  const auto dir = test::scratch_dir("calib");
  const std::string story = "Once upon a time there was a little cat who liked to sing. ";
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += story;
  {
    std::ofstream(dir / "a.txt") << long_text;
    std::ofstream(dir / "a.json") << "[\"" << long_text << "\", {\"text\": \"" << long_text << "\"}]";
    std::ofstream(dir / "a.jsonl") << "{\"text\": \"" << long_text << "\"}\n\n{\"text\": \"" << long_text << "\"}\n";
    std::ofstream(dir / "bad.json") << "[1, 2";
    std::ofstream(dir / "notext.jsonl") << "{\"body\": \"x\"}\n";
  }
  eval::CalibrationOptions o;
  o.seq_len = 64;
  o.samples = 4;
  o.source = dir / "a.txt";
  const auto txt = eval::load_calibration_samples(*tok, o);
  REQUIRE(txt.size() == 4);
  for (const auto& s : txt) {
    REQUIRE(s.size() == 64);
    REQUIRE(s[0] == tok->bos_id());
  }
  // Same first tokens as tokenizing the text directly.
  const auto direct = tok->encode(long_text, true);
  REQUIRE(std::equal(txt[1].begin() + 1, txt[1].end(), direct.begin() + 65));
  o.source = dir / "a.json";
  REQUIRE(eval::read_calibration_documents(o.source).size() == 2);
  REQUIRE(eval::load_calibration_samples(*tok, o).size() == 4);
  o.source = dir / "a.jsonl";
  REQUIRE(eval::read_calibration_documents(o.source).size() == 2);
  // A seed picks a deterministic, different subset.
  o.seed = 7;
  REQUIRE(eval::load_calibration_samples(*tok, o) == eval::load_calibration_samples(*tok, o));
  o.source.clear();  // bundled default text
  o.seed = 0;
  REQUIRE(eval::load_calibration_samples(*tok, o).size() == 4);
  auto code = [&](const std::filesystem::path& p, int64_t samples) {
    eval::CalibrationOptions b = o;
    b.source = p;
    b.samples = samples;
    try {
      eval::load_calibration_samples(*tok, b);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::Success;
  };
  REQUIRE(code(dir / "bad.json", 1) == ErrorCode::CalibrationDataError);
  REQUIRE(code(dir / "notext.jsonl", 1) == ErrorCode::CalibrationDataError);
  REQUIRE(code(dir / "missing.txt", 1) == ErrorCode::CalibrationDataError);
  REQUIRE(code(dir / "a.txt", 100000) == ErrorCode::CalibrationDataError);  // too short for that many
}

TEST_CASE("an overlay source runs like its base and sees replaced tensors", "[eval][overlay]") {
  const auto golden = load_npy_f32(test::shared_dir() / "golden/stories260K/logits-eval64.npy");
  const auto ids = golden_logit_tokens();
  for (const char* model : {"models/stories260K", "models/stories260K.gguf"}) {
    INFO(model);
    auto src = model::open_tensor_source(test::shared_dir() / model);
    model::OverlaySource overlay(*src);
    eval::ForwardOptions tf_options;
    tf_options.streaming = true;
    tf_options.threads = 2;
    eval::Transformer tf(overlay, tf_options);
    // unchanged: the golden logits (the config comes through the wrapped source)
    REQUIRE(max_abs_diff(tf.forward({ids}), golden) < 1e-4);
    // a weight replaced by its own values: the same logits
    const auto* t = src->find("blk.2.ffn_down.weight");
    REQUIRE(t);
    const Tensor w = src->read_f32(*t);
    std::vector<float> same(w.data_as<float>(), w.data_as<float>() + t->shape.numel());
    overlay.replace(t->name, same);
    REQUIRE(max_abs_diff(tf.forward({ids}), golden) < 1e-4);
    // zeroed: the logits move; cleared: back to the golden ones
    overlay.replace(t->name, std::vector<float>(same.size(), 0.0f));
    CHECK(max_abs_diff(tf.forward({ids}), golden) > 1e-3);
    overlay.clear();
    REQUIRE(max_abs_diff(tf.forward({ids}), golden) < 1e-4);
  }
}
