// `littlebit convert` and `littlebit info`: .littlebit <-> gguf-ext (the same
// factors in a GGUF container: packed signs as I8 byte rows, scales as F16,
// settings under littlebit.*), and gguf-lossy (the dense reconstruction
// quantized to a GGUF type by the regular GGUF job).
#include <algorithm>
#include <cstring>
#include <limits>

#include "libquant/core/output_guard.hpp"
#include "libquant/core/error.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/io/littlebit_file.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"
#include "libquant/jobs/littlebit.hpp"
#include "littlebit_output.hpp"

namespace libquant::jobs {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kExtPrefix = "littlebit.";

// "<weight>.lb<p>.<part>" names of the factor tensors in a gguf-ext file.
std::string part_name(const std::string& weight, int path, const char* part) {
  return weight + ".lb" + std::to_string(path) + "." + part;
}

// Everything of a .littlebit file, from either container.
struct Loaded {
  io::LittleBitFileInfo info;
  std::vector<io::GgufKv> kvs;  // model metadata without littlebit.* keys
  std::map<std::string, cpu::LittleBitFactors> factors;
  std::map<std::string, Tensor> dense;
};

bool is_gguf_ext(const io::GgufHeader& h) { return h.find("littlebit.version") != nullptr; }

Loaded load_any(const fs::path& input) {
  Loaded L;
  if (io::is_littlebit_file(input)) {
    io::LittleBitFile f(input);
    L.info = f.info();
    L.kvs = f.metadata();
    for (const auto& t : f.info().tensors) {
      if (t.kind == io::LittleBitTensorKind::Factors) L.factors[t.name] = f.factors(t);
      if (t.kind == io::LittleBitTensorKind::Dense) {
        Tensor x(t.dtype, t.shape);
        std::memcpy(x.data(), f.block(t).data(), t.size);
        L.dense[t.name] = std::move(x);
      }
    }
    return L;
  }
  io::GgufFile g(input);
  const io::GgufHeader& h = g.header();
  if (!is_gguf_ext(h))
    throw Error(ErrorCode::UnsupportedConversion,
                "'" + input.string() + "' is neither a .littlebit nor a gguf-ext file",
                "littlebit convert reads files written by littlebit compress");
  for (const auto& kv : h.kvs) {
    if (kv.key.rfind(kExtPrefix, 0) != 0) {
      L.kvs.push_back(kv);
      continue;
    }
    if (kv.key == "littlebit.version" && kv.value.as_uint() != io::kLittleBitVersion)
      throw Error(ErrorCode::ValidationFailed,
                  "gguf-ext LittleBit version " + std::to_string(kv.value.as_uint()) + " is not supported");
    if (kv.key == "littlebit.source_model") L.info.source_model = kv.value.as_string();
    if (kv.key == "littlebit.architecture") L.info.architecture = kv.value.as_string();
    if (kv.key == "littlebit.target_bpw") L.info.target_bpw = kv.value.as_double();
    if (kv.key == "littlebit.residual") L.info.residual = kv.value.as_bool();
    if (kv.key == "littlebit.refinement") L.info.refinement = kv.value.as_string();
    if (kv.key == "littlebit.created_by") L.info.created_by = kv.value.as_string();
    if (kv.key == "littlebit.original_size_bytes") L.info.original_size_bytes = kv.value.as_uint();
  }
  const auto raw = [&](const io::GgufTensorInfo& t) {
    Tensor x(t.type, t.shape);
    g.read(t, 0, {x.data(), x.nbytes()});
    return x;
  };
  for (const auto& t : h.tensors) {
    const auto pos = t.name.find(".lb");
    if (pos == std::string::npos) {
      check(t.type == DType::F16 || t.type == DType::BF16 || t.type == DType::F32, ErrorCode::ValidationFailed,
            "gguf-ext tensor '" + t.name + "' is not F16/BF16/F32");
      L.dense[t.name] = raw(t);
      L.info.tensors.push_back({t.name, io::LittleBitTensorKind::Dense, t.shape, t.type});
      continue;
    }
    const std::string weight = t.name.substr(0, pos);
    if (t.name != part_name(weight, 0, "u")) continue;  // each weight is assembled once, from its parts
    const io::GgufTensorInfo* l0 = h.find_tensor(part_name(weight, 0, "l"));
    const io::GgufTensorInfo* g0 = h.find_tensor(part_name(weight, 0, "g"));
    const io::GgufTensorInfo* h0 = h.find_tensor(part_name(weight, 0, "h"));
    check(l0 && g0 && h0, ErrorCode::ValidationFailed, "gguf-ext weight '" + weight + "' lacks scale tensors");
    const int64_t out = h0->shape[0], in = g0->shape[0], rank = l0->shape[0];
    const int paths = h.find_tensor(part_name(weight, 1, "u")) ? 2 : 1;
    // Re-assemble the .littlebit block from the parts and decode it (one validation path for both containers).
    const io::LittleBitBlockLayout lay = io::littlebit_block_layout(out, in, rank, paths);
    std::vector<std::byte> block(lay.size, std::byte{0});
    for (int p = 0; p < paths; ++p) {
      const std::pair<const char*, uint64_t> parts[] = {{"u", lay.paths[p].u},
                                                        {"v", lay.paths[p].v},
                                                        {"h", lay.paths[p].h},
                                                        {"l", lay.paths[p].l},
                                                        {"g", lay.paths[p].g}};
      for (const auto& [part, at] : parts) {
        const io::GgufTensorInfo* pt = h.find_tensor(part_name(weight, p, part));
        check(pt != nullptr, ErrorCode::ValidationFailed, "gguf-ext lacks '" + part_name(weight, p, part) + "'");
        const uint64_t next = part == std::string_view("g")   ? (p + 1 < paths ? lay.paths[p + 1].u : lay.size)
                              : part == std::string_view("u") ? lay.paths[p].v
                              : part == std::string_view("v") ? lay.paths[p].h
                              : part == std::string_view("h") ? lay.paths[p].l
                                                              : lay.paths[p].g;
        check(pt->nbytes() <= next - at, ErrorCode::ValidationFailed, "gguf-ext part '" + pt->name + "' is too large");
        g.read(*pt, 0, {block.data() + at, pt->nbytes()});
      }
    }
    L.factors[weight] = io::decode_factors(block, out, in, rank, paths);
    io::LittleBitTensorInfo e;
    e.name = weight;
    e.kind = io::LittleBitTensorKind::Factors;
    e.shape = Shape({out, in});
    e.rank = rank;
    e.paths = paths;
    L.info.tensors.push_back(std::move(e));
  }
  return L;
}

void write_gguf_ext(const Loaded& L, const fs::path& out) {
  std::vector<io::GgufKv> kvs = L.kvs;
  kvs.push_back({"littlebit.version", io::GgufValue::u32(io::kLittleBitVersion)});
  kvs.push_back({"littlebit.source_model", io::GgufValue::str(L.info.source_model)});
  kvs.push_back({"littlebit.architecture", io::GgufValue::str(L.info.architecture)});
  kvs.push_back({"littlebit.target_bpw", io::GgufValue::f32(static_cast<float>(L.info.target_bpw))});
  kvs.push_back({"littlebit.residual", io::GgufValue::boolean(L.info.residual)});
  kvs.push_back({"littlebit.refinement", io::GgufValue::str(L.info.refinement)});
  kvs.push_back({"littlebit.created_by", io::GgufValue::str(L.info.created_by)});
  kvs.push_back({"littlebit.original_size_bytes", io::GgufValue::u64(L.info.original_size_bytes)});
  std::vector<std::pair<std::string, std::pair<DType, Shape>>> decl;
  std::vector<std::vector<std::byte>> blobs;
  for (const auto& t : L.info.tensors) {
    if (t.kind == io::LittleBitTensorKind::Dense) {
      const Tensor& x = L.dense.at(t.name);
      decl.push_back({t.name, {x.dtype(), x.shape()}});
      blobs.emplace_back(x.data(), x.data() + x.nbytes());
      continue;
    }
    if (t.kind != io::LittleBitTensorKind::Factors) continue;
    const cpu::LittleBitFactors& f = L.factors.at(t.name);
    const std::vector<std::byte> block = io::encode_factors(f);
    const io::LittleBitBlockLayout lay = io::littlebit_block_layout(f.out, f.in, f.rank, f.path_count());
    for (int p = 0; p < f.path_count(); ++p) {
      const auto& P = f.paths[p];
      const auto add = [&](const char* part, DType d, Shape s, uint64_t at, uint64_t n) {
        decl.push_back({part_name(t.name, p, part), {d, std::move(s)}});
        blobs.emplace_back(block.begin() + static_cast<std::ptrdiff_t>(at),
                           block.begin() + static_cast<std::ptrdiff_t>(at + n));
      };
      add("u", DType::I8, Shape({f.out, P.u.words_per_row() * 8}), lay.paths[p].u, P.u.nbytes());
      add("v", DType::I8, Shape({f.rank, P.v.words_per_row() * 8}), lay.paths[p].v, P.v.nbytes());
      add("h", DType::F16, Shape({f.out}), lay.paths[p].h, static_cast<uint64_t>(f.out) * 2);
      add("l", DType::F16, Shape({f.rank}), lay.paths[p].l, static_cast<uint64_t>(f.rank) * 2);
      add("g", DType::F16, Shape({f.in}), lay.paths[p].g, static_cast<uint64_t>(f.in) * 2);
    }
  }
  io::GgufWriter w(out, std::move(kvs), decl);
  for (const auto& b : blobs) w.write_tensor(b);
  w.finish();
}

void write_littlebit(const Loaded& L, const fs::path& out) {
  io::LittleBitWriter w(out, L.info);
  w.write_metadata(L.kvs);
  for (const auto& t : L.info.tensors) {
    if (t.kind == io::LittleBitTensorKind::Factors)
      w.write_factors(t.name, L.factors.at(t.name), t.weight_error, t.output_error, t.original_bits);
    else if (t.kind == io::LittleBitTensorKind::Dense)
      w.write_dense(t.name, L.dense.at(t.name), t.original_bits);
  }
  w.finish();
}

}  // namespace

LittleBitConvertResult littlebit_convert(const LittleBitConvertOptions& o) {
  check(fs::exists(o.input), ErrorCode::ModelNotFound, "'" + o.input.string() + "' not found");
  require_output_apart_from_inputs(o.output, {o.input});
  check(o.format == "littlebit" || o.format == "gguf-ext" || o.format == "gguf-lossy", ErrorCode::InvalidArgument,
        "unknown format '" + o.format + "'", "Use littlebit, gguf-ext or gguf-lossy");
  LittleBitConvertResult r;
  r.format = o.format;
  r.input_size_bytes = fs::file_size(o.input);
  if (o.format == "gguf-lossy") {
    check(io::is_littlebit_file(o.input), ErrorCode::UnsupportedConversion, "gguf-lossy is made from a .littlebit file",
          "Convert the gguf-ext file to littlebit first");
    ConvertToGgufOptions c;
    c.input = o.input;
    c.output = o.output;
    c.file_type = o.gguf_type;
    c.threads = o.threads;
    c.progress = o.progress;
    try {
      convert_to_gguf(c);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::InvalidArgument || e.code() == ErrorCode::UnsupportedConversion) throw;
      throw Error(ErrorCode::ReconstructionFailed, std::string("reconstruction to GGUF failed: ") + e.what(),
                  e.suggestion());
    }
  } else {
    const Loaded L = load_any(o.input);
    if (o.format == "gguf-ext")
      write_gguf_ext(L, o.output);
    else
      write_littlebit(L, o.output);
  }
  r.output_path = o.output;
  r.output_size_bytes = fs::file_size(o.output);
  return r;
}

LittleBitInfo littlebit_info(const fs::path& file) {
  check(fs::exists(file), ErrorCode::ModelNotFound, "'" + file.string() + "' not found");
  const bool native = io::is_littlebit_file(file);
  const Loaded L = load_any(file);
  LittleBitInfo I;
  I.file = file;
  I.format = native ? "littlebit" : "gguf-ext";
  I.format_version = L.info.version;
  I.source_model = L.info.source_model;
  I.architecture = L.info.architecture;
  I.refinement = L.info.refinement;
  I.target_bpw = L.info.target_bpw;
  I.original_size_bytes = L.info.original_size_bytes;
  I.compressed_size_bytes = fs::file_size(file);
  I.compression_ratio = I.compressed_size_bytes
                            ? static_cast<double>(I.original_size_bytes) / static_cast<double>(I.compressed_size_bytes)
                            : 0;
  double bits = 0, weights = 0, rank_sum = 0;
  I.min_rank = std::numeric_limits<int64_t>::max();
  for (const auto& t : L.info.tensors) {
    if (t.kind != io::LittleBitTensorKind::Factors) continue;
    const auto& f = L.factors.at(t.name);
    LittleBitLayerStat st{t.name,  f.out,          f.in, f.rank,         f.path_count(),
                          f.bpw(), t.weight_error, -1,   t.output_error, false};
    const double mn = static_cast<double>(f.out) * static_cast<double>(f.in);
    bits += st.bpw * mn;
    weights += mn;
    rank_sum += static_cast<double>(f.rank);
    if (f.rank < I.min_rank) I.min_rank = f.rank, I.min_rank_layer = t.name;
    if (f.rank > I.max_rank) I.max_rank = f.rank, I.max_rank_layer = t.name;
    const auto dot = t.name.find('.', 4);
    if (t.name.rfind("blk.", 0) == 0 && dot != std::string::npos)
      I.num_layers = std::max<int64_t>(I.num_layers, std::stoll(t.name.substr(4, dot - 4)) + 1);
    I.layers.push_back(std::move(st));
  }
  if (I.layers.empty()) I.min_rank = 0;
  I.achieved_bpw = weights > 0 ? bits / weights : 0;
  I.average_rank = I.layers.empty() ? 0 : rank_sum / static_cast<double>(I.layers.size());
  return I;
}

}  // namespace libquant::jobs
