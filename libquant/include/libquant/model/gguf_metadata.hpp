#pragma once
// GGUF metadata for a converted HF checkpoint: general.*, the architecture's
// hyper-parameter keys llama.cpp reads, and the tokenizer keys (made by
// eval::hf_tokenizer_kvs) in the converter's place.
#include <filesystem>
#include <string>
#include <vector>

#include "libquant/gguf/file_type.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/model/model_config.hpp"

namespace libquant::model {

// llama.cpp's file types (general.file_type) live with the GGUF codecs.
using gguf::file_type_name;
using gguf::LlamaFileType;

// general.* + architecture keys + `tokenizer` keys, in llama.cpp converter order.
LIBQUANT_API std::vector<io::GgufKv> build_gguf_metadata(const ModelConfig& cfg, LlamaFileType file_type,
                                                         std::string_view model_name,
                                                         std::vector<io::GgufKv> tokenizer);

// The reverse: a ModelConfig from a GGUF file's keys (for info / the forward pass).
LIBQUANT_API ModelConfig config_from_gguf(const io::GgufHeader& h);

}  // namespace libquant::model
