#include "libquant/jobs/quality_report.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "libquant/core/error.hpp"
#include "libquant/eval/calibration_data.hpp"
#include "libquant/eval/perplexity.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/eval/transformer.hpp"
#include "libquant/model/gguf_metadata.hpp"
#include "libquant/model/tensor_naming.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;

namespace {

uint64_t size_on_disk(const fs::path& p) {
  if (!fs::is_directory(p)) return fs::file_size(p);
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(p))
    if (e.path().extension() == ".safetensors") n += e.file_size();
  return n;
}

double bits_per_weight(const model::TensorSource& s) {
  return 8.0 * static_cast<double>(s.total_bytes()) / static_cast<double>(std::max<uint64_t>(1, s.parameter_count()));
}

// From the storage list the report already holds (layer indices parsed once there).
double layer_bits(const std::vector<TensorStorage>& tensors, int layer) {
  uint64_t bytes = 0, params = 0;
  for (const auto& t : tensors)
    if (t.layer == layer) {
      bytes += t.bytes;
      params += t.parameters;
    }
  return params ? 8.0 * static_cast<double>(bytes) / static_cast<double>(params) : 0.0;
}

// general.file_type and the quantize.* keys llama-quantize and we write.
std::vector<std::pair<std::string, std::string>> provenance_of(const model::TensorSource& s) {
  std::vector<std::pair<std::string, std::string>> out;
  const io::GgufHeader* h = model::gguf_header(s);
  if (!h) return out;
  for (const auto& kv : h->kvs)
    if (kv.key == "general.file_type")
      out.emplace_back(kv.key, std::string(model::file_type_name(static_cast<uint32_t>(kv.value.as_uint()))));
    else if (kv.key.rfind("quantize.", 0) == 0)
      out.emplace_back(kv.key, kv.value.to_display_string());
  return out;
}

// The value at fraction q of the sorted values, between the two nearest ranks.
double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

KlDistribution kl_distribution(std::vector<double> kld) {
  KlDistribution d;
  if (kld.empty()) return d;
  std::sort(kld.begin(), kld.end());
  d.min = kld.front();
  d.max = kld.back();
  d.median = quantile(kld, 0.5);
  d.p90 = quantile(kld, 0.9);
  d.p95 = quantile(kld, 0.95);
  d.p99 = quantile(kld, 0.99);
  d.p99_9 = quantile(kld, 0.999);
  // Decades from 1e-6 to 10, with one bin below and one above.
  const std::vector<double> edges = {0.0,  1e-6, 1e-5, 1e-4, 1e-3,
                                     1e-2, 1e-1, 1.0,  10.0, std::numeric_limits<double>::infinity()};
  for (size_t b = 0; b + 1 < edges.size(); ++b) {
    const auto first = std::lower_bound(kld.begin(), kld.end(), edges[b]);
    const auto last = std::lower_bound(kld.begin(), kld.end(), edges[b + 1]);
    d.histogram.push_back({edges[b], edges[b + 1], static_cast<int64_t>(last - first)});
  }
  // Values below 0 (rounding of an exact match) belong to the first bin.
  d.histogram.front().tokens += std::lower_bound(kld.begin(), kld.end(), 0.0) - kld.begin();
  return d;
}

std::vector<TensorStorage> tensor_storage(const model::TensorSource& source) {
  std::vector<TensorStorage> out;
  out.reserve(source.tensors().size());
  for (const auto& t : source.tensors())
    out.push_back({t.name, std::string(traits(t.dtype).name), model::gguf_layer_index(t.name).value_or(-1),
                   static_cast<uint64_t>(t.shape.numel()), t.nbytes});
  return out;
}

std::string model_type_label(const model::TensorSource& source) {
  if (const io::GgufHeader* h = model::gguf_header(source))
    if (const io::GgufValue* ft = h->find("general.file_type"))
      return std::string(model::file_type_name(static_cast<uint32_t>(ft->as_uint())));
  std::map<std::string, uint64_t> bytes;  // the type of most weight bytes
  for (const auto& t : source.tensors()) bytes[std::string(traits(t.dtype).name)] += t.nbytes;
  const auto most =
      std::max_element(bytes.begin(), bytes.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return most == bytes.end() ? std::string() : most->first;
}

QualityReport quality_report(const QualityReportOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  auto orig_src = model::open_tensor_source(opts.original);
  auto q_src = model::open_tensor_source(opts.quantized);
  auto tok = eval::load_tokenizer(*orig_src);
  // Without a text the bundled default (the calibration text) is used.
  const std::string text = opts.data.empty() ? eval::default_calibration_text() : eval::read_text_file(opts.data);
  const std::vector<int32_t> tokens = tok->encode_prefix(
      text, tok->add_bos_by_default(), static_cast<size_t>(std::max<int64_t>(opts.chunks, 1) * opts.ctx));
  const int64_t available = static_cast<int64_t>(tokens.size()) / opts.ctx;
  if (available < 1)
    throw Error(ErrorCode::CalibrationDataError,
                "the text has fewer than ctx = " + std::to_string(opts.ctx) + " tokens",
                "Use a longer text or a smaller `ctx`");
  QualityReport rep;
  rep.original = opts.original.string();
  rep.quantized = opts.quantized.string();
  rep.ctx = opts.ctx;
  rep.chunks = std::min(opts.chunks, available);

  eval::ForwardOptions fo;
  fo.streaming = true;
  fo.threads = opts.threads;
  eval::Transformer orig(*orig_src, fo), quant(*q_src, fo);
  check(
      orig.config().num_layers == quant.config().num_layers && orig.config().hidden_size == quant.config().hidden_size,
      ErrorCode::ValidationFailed, "the two models do not have the same architecture");
  const int layers = static_cast<int>(orig.config().num_layers);
  std::vector<double> sq(static_cast<size_t>(layers)), upd(sq.size()), mx(sq.size());
  std::vector<uint64_t> cnt(sq.size());
  const int64_t first = opts.ctx / 2;
  double nll_o = 0, nll_q = 0, kld = 0, kld2 = 0, same = 0;
  int64_t n = 0;
  std::vector<double> lo, lq, token_kld;
  ProgressSink& progress = opts.progress ? *opts.progress : null_progress();
  progress.begin("Comparing", static_cast<uint64_t>(rep.chunks), "chunks");
  for (int64_t c = 0; c < rep.chunks; ++c) {
    std::vector<int32_t> chunk(tokens.begin() + c * opts.ctx, tokens.begin() + (c + 1) * opts.ctx);
    if (tok->add_bos_by_default() && tok->bos_id() >= 0) chunk[0] = tok->bos_id();
    auto xo = orig.embed({chunk});
    auto xq = quant.embed({chunk});
    for (int l = 0; l < layers; ++l) {
      if (opts.include_layers) {
        // The quantized layer on the original's input, against the original layer.
        auto probe = xo;
        const std::vector<float> input = xo.h;
        quant.run_layer(l, {&xq, &probe});
        orig.run_layer(l, xo);
        for (size_t i = 0; i < input.size(); ++i) {
          const double e = static_cast<double>(probe.h[i]) - xo.h[i];
          const double u = static_cast<double>(xo.h[i]) - input[i];
          sq[l] += e * e;
          upd[l] += u * u;
          mx[l] = std::max(mx[l], std::fabs(e));
        }
        cnt[l] += input.size();
      } else {
        quant.run_layer(l, xq);
        orig.run_layer(l, xo);
      }
    }
    const auto lgo = orig.logits(xo, first), lgq = quant.logits(xq, first);
    const int64_t vocab = static_cast<int64_t>(lgo.size()) / (opts.ctx - first);
    check(static_cast<int64_t>(lgq.size()) == static_cast<int64_t>(lgo.size()), ErrorCode::ValidationFailed,
          "the two models have different vocabularies");
    for (int64_t j = first; j < opts.ctx - 1; ++j) {
      eval::log_softmax(lgo.data() + (j - first) * vocab, vocab, lo);
      eval::log_softmax(lgq.data() + (j - first) * vocab, vocab, lq);
      const auto target = static_cast<size_t>(chunk[static_cast<size_t>(j + 1)]);
      nll_o -= lo[target];
      nll_q -= lq[target];
      double k = 0;
      size_t ao = 0, aq = 0;
      for (size_t i = 0; i < lo.size(); ++i) {
        k += std::exp(lo[i]) * (lo[i] - lq[i]);
        if (lo[i] > lo[ao]) ao = i;
        if (lq[i] > lq[aq]) aq = i;
      }
      kld += k;
      kld2 += k * k;
      token_kld.push_back(k);
      same += ao == aq;
      ++n;
    }
    progress.update(static_cast<uint64_t>(c + 1), "");
  }
  progress.end();
  const double dn = static_cast<double>(n);
  rep.scored_tokens = n;
  rep.perplexity_original = std::exp(nll_o / dn);
  rep.perplexity_quantized = std::exp(nll_q / dn);
  rep.perplexity_delta_pct = 100.0 * (rep.perplexity_quantized / rep.perplexity_original - 1.0);
  rep.mean_kld = kld / dn;
  rep.kld_error = n > 1 ? std::sqrt(std::max(0.0, kld2 / dn - rep.mean_kld * rep.mean_kld) / (dn - 1)) : 0;
  rep.same_top_p = same / dn;
  rep.kld_distribution = kl_distribution(std::move(token_kld));
  rep.size_original = size_on_disk(opts.original);
  rep.size_quantized = size_on_disk(opts.quantized);
  rep.bpw_original = bits_per_weight(*orig_src);
  rep.bpw_quantized = bits_per_weight(*q_src);
  rep.compression_ratio = static_cast<double>(rep.size_quantized) / static_cast<double>(rep.size_original);
  rep.type_original = model_type_label(*orig_src);
  rep.type_quantized = model_type_label(*q_src);
  rep.provenance = provenance_of(*q_src);
  rep.tensors = tensor_storage(*q_src);
  if (opts.include_layers) {
    const model::ModelConfig& cfg = orig.config();
    for (int l = 0; l < layers; ++l) {
      const char* mixer = cfg.is_recurrent_layer(l) ? "linear_attention"
                          : cfg.arch()->ssm         ? "state_space"
                                                    : "attention";
      rep.layers.push_back({"model.layers." + std::to_string(l), sq[l] / static_cast<double>(cnt[l]), mx[l],
                            std::sqrt(sq[l] / std::max(1e-300, upd[l])), layer_bits(rep.tensors, l), mixer});
    }
    for (const LayerError& e : rep.layers) {
      auto it = std::find_if(rep.by_mixer.begin(), rep.by_mixer.end(),
                             [&](const MixerError& m) { return m.mixer == e.mixer; });
      if (it == rep.by_mixer.end()) it = rep.by_mixer.insert(rep.by_mixer.end(), MixerError{e.mixer, 0, 0});
      it->mean_relative_error += (e.relative_error - it->mean_relative_error) / static_cast<double>(++it->layers);
    }
  }
  rep.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace libquant::jobs
