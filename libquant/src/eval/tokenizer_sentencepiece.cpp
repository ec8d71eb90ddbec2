#include <sentencepiece_processor.h>

#include <cstring>

#include "libquant/core/error.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/model/gguf_metadata.hpp"

namespace libquant::eval {

std::unique_ptr<Tokenizer> make_bpe_tokenizer(const io::GgufHeader& h);  // tokenizer_bpe.cpp

namespace {

// Minimal protobuf wire-format writer for the few ModelProto fields we need.
class ProtoWriter {
 public:
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  void tag(int field, int wire) { varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire)); }
  void int_field(int field, int64_t v) { tag(field, 0); varint(static_cast<uint64_t>(v)); }
  void bytes_field(int field, std::string_view s) { tag(field, 2); varint(s.size()); out_ += s; }
  void float_field(int field, float f) {
    tag(field, 5);
    char b[4];
    std::memcpy(b, &f, 4);
    out_.append(b, 4);
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(std::unique_ptr<sentencepiece::SentencePieceProcessor> sp, bool add_bos)
      : sp_(std::move(sp)), add_bos_(add_bos) {}
  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override {
    std::vector<int> ids;
    const auto status = sp_->Encode(std::string(text), &ids);
    if (!status.ok()) throw Error(ErrorCode::CalibrationDataError, "tokenization failed: " + status.ToString());
    std::vector<int32_t> out;
    out.reserve(ids.size() + 1);
    if (add_bos && sp_->bos_id() >= 0) out.push_back(sp_->bos_id());
    out.insert(out.end(), ids.begin(), ids.end());
    return out;
  }
  std::string decode(const std::vector<int32_t>& ids) const override {
    std::string s;
    sp_->Decode(std::vector<int>(ids.begin(), ids.end()), &s).IgnoreError();
    return s;
  }
  int32_t bos_id() const noexcept override { return sp_->bos_id(); }
  int32_t eos_id() const noexcept override { return sp_->eos_id(); }
  int32_t vocab_size() const noexcept override { return sp_->GetPieceSize(); }
  bool add_bos_by_default() const noexcept override { return add_bos_; }

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  bool add_bos_;
};

}  // namespace

std::string sentencepiece_proto_from_gguf(const io::GgufHeader& h) {
  const io::GgufValue* tokens = h.find("tokenizer.ggml.tokens");
  const io::GgufValue* scores = h.find("tokenizer.ggml.scores");
  const io::GgufValue* types = h.find("tokenizer.ggml.token_type");
  check(tokens && tokens->is_array(), ErrorCode::ValidationFailed, "GGUF file has no tokenizer.ggml.tokens");
  const io::GgufArray& tok = tokens->array();
  // Scores and types are optional; when present they must be f32 and i32 arrays.
  const io::GgufArray* sc = scores && scores->is_array() ? &scores->array() : nullptr;
  const io::GgufArray* ty = types && types->is_array() ? &types->array() : nullptr;
  check(!sc || sc->element_type() == io::GgufType::Float32, ErrorCode::ValidationFailed,
        "tokenizer.ggml.scores is not an f32 array");
  check(!ty || ty->element_type() == io::GgufType::Int32, ErrorCode::ValidationFailed,
        "tokenizer.ggml.token_type is not an i32 array");
  ProtoWriter model;
  bool has_bytes = false;
  for (size_t i = 0; i < tok.size(); ++i) {
    ProtoWriter piece;
    piece.bytes_field(1, std::string(tok.string_at(i)));
    const float score = sc && i < sc->size() ? static_cast<float>(sc->number_at(i)) : 0.0f;
    piece.float_field(2, score);
    const auto type = ty && i < ty->size() ? static_cast<int32_t>(ty->integer_at(i)) : int32_t{1};
    has_bytes |= type == 6;
    piece.int_field(3, type);
    model.bytes_field(1, piece.str());
  }
  auto id_of = [&](const char* key, int64_t def) {
    const io::GgufValue* v = h.find(key);
    return v ? v->as_int() : def;
  };
  ProtoWriter trainer;
  trainer.int_field(3, 2);  // model_type = BPE
  trainer.int_field(4, static_cast<int64_t>(tok.size()));
  trainer.int_field(35, has_bytes ? 1 : 0);  // byte_fallback
  trainer.int_field(40, id_of("tokenizer.ggml.unknown_token_id", 0));
  trainer.int_field(41, id_of("tokenizer.ggml.bos_token_id", 1));
  trainer.int_field(42, id_of("tokenizer.ggml.eos_token_id", 2));
  trainer.int_field(43, -1);  // pad_id: llama.cpp does not special-case padding while encoding
  model.bytes_field(2, trainer.str());
  ProtoWriter norm;
  norm.bytes_field(1, "identity");
  norm.bytes_field(2, "");
  const io::GgufValue* prefix = h.find("tokenizer.ggml.add_space_prefix");
  norm.int_field(3, prefix ? prefix->as_bool() : 1);  // add_dummy_prefix
  norm.int_field(4, 0);                                // remove_extra_whitespaces: llama.cpp keeps them
  norm.int_field(5, 1);                                // escape_whitespaces
  model.bytes_field(3, norm.str());
  return model.str();
}

std::unique_ptr<Tokenizer> load_tokenizer(const model::TensorSource& source) {
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  if (const auto* cfg = model::hf_config(source)) {
    const auto path = source.path() / "tokenizer.model";
    if (!std::filesystem::exists(path)) {
      // tokenizer.json: the same vocabulary, merges and pre-tokenizer the GGUF converter would store.
      io::GgufHeader h;
      h.kvs = model::tokenizer_kvs(source.path(), *cfg);
      return make_bpe_tokenizer(h);
    }
    if (!sp->Load(path.string()).ok())
      throw Error(ErrorCode::ValidationFailed, "'" + path.string() + "' is not a SentencePiece model");
    return std::make_unique<SentencePieceTokenizer>(std::move(sp), true);
  }
  const io::GgufHeader& h = *model::gguf_header(source);
  const io::GgufValue* kind = h.find("tokenizer.ggml.model");
  check(kind != nullptr, ErrorCode::ValidationFailed, "GGUF file has no tokenizer (tokenizer.ggml.model)");
  if (kind->as_string() == "gpt2") return make_bpe_tokenizer(h);
  if (kind->as_string() != "llama")
    throw Error(ErrorCode::UnsupportedConversion, "tokenizer kind '" + kind->as_string() + "' is not implemented yet",
                "Supported: SentencePiece (`llama`) and byte-level BPE (`gpt2`) vocabularies");
  if (!sp->LoadFromSerializedProto(sentencepiece_proto_from_gguf(h)).ok())
    throw Error(ErrorCode::ValidationFailed, "the GGUF vocabulary is not a valid SentencePiece model");
  const io::GgufValue* add_bos = h.find("tokenizer.ggml.add_bos_token");
  return std::make_unique<SentencePieceTokenizer>(std::move(sp), add_bos ? add_bos->as_bool() : true);
}

}  // namespace libquant::eval
