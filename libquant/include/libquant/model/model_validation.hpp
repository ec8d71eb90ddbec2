#pragma once
// The one validation step between a parsed checkpoint and any work on it.
// Parsers check that a file is well-formed; this checks that the model it
// describes is consistent: hyper-parameters in range, every product of them
// representable, and every tensor the forward pass, the quantizer or LittleBit
// will touch present with exactly the shape the configuration implies. Code
// downstream takes its dimensions from the validated configuration only, so a
// file whose config and tensors disagree (head_count 7 over 8 heads' worth of
// rows, swapped projections, a zero or huge ffn length) is refused with the
// tensor named, never read out of bounds.
#include <string>
#include <vector>

#include "libquant/core/tensor.hpp"
#include "libquant/export.hpp"
#include "libquant/model/model_config.hpp"

namespace libquant::model {

class TensorSource;

// The tensors a dense decoder of this configuration has, with their shapes
// (row-major, GGUF names), as the forward pass reads them.
struct ExpectedTensor {
  std::string name;
  Shape shape;
  bool required = true;
};
LIBQUANT_API std::vector<ExpectedTensor> expected_tensors(const ModelConfig& cfg);

// Checks the hyper-parameters alone (Error ValidationFailed naming the value,
// UnsupportedConversion for layouts no forward pass exists for).
LIBQUANT_API void validate_hyperparameters(const ModelConfig& cfg);

// The source's configuration (config.json or GGUF metadata), validated
// against its tensors: Error(ValidationFailed) naming the first tensor that is
// missing, has the wrong shape or rank, or lies beyond the layer count;
// Error(UnsupportedConversion) for an architecture without a forward pass.
// The vocabulary size is taken from token_embd when the metadata lacks it.
LIBQUANT_API ModelConfig validated_config(const TensorSource& src);

// What the forward pass assumes beyond the tensor shapes (GGUF keys such as
// rope.dimension_count equal to head_dim): Error(UnsupportedConversion).
LIBQUANT_API void check_forward_support(const TensorSource& src, const ModelConfig& cfg);

// Whether the source is of an architecture validated_config knows (a GGUF of
// another family can still be re-quantized tensor by tensor).
LIBQUANT_API bool has_known_architecture(const TensorSource& src);

}  // namespace libquant::model
