#pragma once
// Umbrella header: the public API. Exactly the headers reachable from here are
// installed (cmake/PublicHeaders.cmake); the others under include/libquant are
// the library's own (kernels, file plumbing, JSON and thread-pool helpers) and
// may change without notice.
#include "libquant/version.hpp"

// core: errors, types, logging, progress
#include "libquant/core/checkpoint.hpp"
#include "libquant/core/cpu_features.hpp"
#include "libquant/core/dtype.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/half.hpp"
#include "libquant/core/log.hpp"
#include "libquant/core/progress.hpp"
#include "libquant/core/shape.hpp"
#include "libquant/core/tensor.hpp"

// compute backends
#include "libquant/backend/backend.hpp"

// GGUF codecs and llama.cpp's file types
#include "libquant/gguf/file_type.hpp"
#include "libquant/gguf/mixture.hpp"
#include "libquant/gguf/row_codec.hpp"

// file formats
#include "libquant/io/compressed_tensors.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/io/gguf_value.hpp"
#include "libquant/io/hub.hpp"
#include "libquant/io/littlebit_file.hpp"
#include "libquant/io/safetensors.hpp"

// models
#include "libquant/model/gguf_metadata.hpp"
#include "libquant/model/model_config.hpp"
#include "libquant/model/tensor_naming.hpp"
#include "libquant/model/tensor_source.hpp"

// evaluation
#include "libquant/eval/calibration_data.hpp"
#include "libquant/eval/coherence.hpp"
#include "libquant/eval/perplexity.hpp"
#include "libquant/eval/tokenizer.hpp"
#include "libquant/eval/transformer.hpp"

// methods
#include "libquant/methods/awq.hpp"
#include "libquant/methods/dynamic_quantizer.hpp"
#include "libquant/methods/gptq.hpp"
#include "libquant/methods/importance_matrix.hpp"
#include "libquant/methods/int_weight.hpp"
#include "libquant/methods/littlebit.hpp"
#include "libquant/methods/quant_profile.hpp"
#include "libquant/methods/smoothquant.hpp"
#include "libquant/methods/super_weights.hpp"

// whole jobs (what the llm-quantize commands run)
#include "libquant/jobs/analyze.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"
#include "libquant/jobs/convert_to_hf.hpp"
#include "libquant/jobs/littlebit.hpp"
#include "libquant/jobs/model_info.hpp"
#include "libquant/jobs/quality_gates.hpp"
#include "libquant/jobs/quality_report.hpp"
#include "libquant/jobs/smoothquant.hpp"
#include "libquant/jobs/result_json.hpp"
#include "libquant/jobs/weight_only.hpp"
