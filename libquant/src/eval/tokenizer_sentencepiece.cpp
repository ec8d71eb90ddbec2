// A SentencePiece ModelProto written from a GGUF `llama` vocabulary (for HF
// checkpoints made from GGUF files, which need a tokenizer.model).
#include <cstring>

#include "libquant/core/error.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/model/gguf_metadata.hpp"

namespace libquant::eval {

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
  void int_field(int field, int64_t v) {
    tag(field, 0);
    varint(static_cast<uint64_t>(v));
  }
  void bytes_field(int field, std::string_view s) {
    tag(field, 2);
    varint(s.size());
    out_ += s;
  }
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
  auto id_of = [&](const char* key, int64_t def) {
    const io::GgufValue* v = h.find(key);
    return v ? v->as_int() : def;
  };
  auto type_at = [&](size_t i) { return ty && i < ty->size() ? static_cast<int32_t>(ty->integer_at(i)) : int32_t{1}; };
  // SentencePiece refuses a model whose unknown piece is not typed UNKNOWN;
  // some GGUF vocabularies (Gemma's) mark it CONTROL.
  const int64_t unk_id = id_of("tokenizer.ggml.unknown_token_id", 0);
  bool has_unknown = false;
  for (size_t i = 0; i < tok.size() && !has_unknown; ++i) has_unknown = type_at(i) == 2;
  ProtoWriter model;
  bool has_bytes = false;
  for (size_t i = 0; i < tok.size(); ++i) {
    ProtoWriter piece;
    piece.bytes_field(1, std::string(tok.string_at(i)));
    const float score = sc && i < sc->size() ? static_cast<float>(sc->number_at(i)) : 0.0f;
    piece.float_field(2, score);
    const int32_t type = !has_unknown && static_cast<int64_t>(i) == unk_id ? 2 : type_at(i);
    has_bytes |= type == 6;
    piece.int_field(3, type);
    model.bytes_field(1, piece.str());
  }
  ProtoWriter trainer;
  trainer.int_field(3, 2);  // model_type = BPE
  trainer.int_field(4, static_cast<int64_t>(tok.size()));
  trainer.int_field(35, has_bytes ? 1 : 0);  // byte_fallback
  trainer.int_field(40, unk_id);
  trainer.int_field(41, id_of("tokenizer.ggml.bos_token_id", 1));
  trainer.int_field(42, id_of("tokenizer.ggml.eos_token_id", 2));
  trainer.int_field(43, -1);  // pad_id: llama.cpp does not special-case padding while encoding
  model.bytes_field(2, trainer.str());
  ProtoWriter norm;
  norm.bytes_field(1, "identity");
  norm.bytes_field(2, "");
  const io::GgufValue* prefix = h.find("tokenizer.ggml.add_space_prefix");
  norm.int_field(3, prefix ? prefix->as_bool() : 1);  // add_dummy_prefix
  norm.int_field(4, 0);                               // remove_extra_whitespaces: llama.cpp keeps them
  norm.int_field(5, 1);                               // escape_whitespaces
  model.bytes_field(3, norm.str());
  return model.str();
}

}  // namespace libquant::eval
