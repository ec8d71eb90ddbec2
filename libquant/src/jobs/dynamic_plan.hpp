#pragma once
// `-q dynamic`: per-tensor types for the decoder blocks' linear weights from
// methods::allocate_bits, under a whole-file size budget.
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "libquant/core/dtype.hpp"
#include "libquant/core/thread_pool.hpp"
#include "libquant/io/gguf_file.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"
#include "libquant/methods/dynamic_quantizer.hpp"
#include "libquant/methods/importance_matrix.hpp"
#include "libquant/methods/quant_profile.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::jobs {

// llama-quantize's mixture whose output / token-embedding rules a dynamic
// file follows (the allocation covers the blocks): Q4_K_M from 4 bpw, Q3_K_M
// from 3, IQ2_M below (Q2_K without an importance matrix).
std::string dynamic_reference_type(double target_bpw, bool has_imatrix);

// The file size the options ask for (target_size_bytes, or target_bpw over
// every parameter of the model).
uint64_t dynamic_target_bytes(const DynamicQuantOptions& o, uint64_t parameter_count);

using TensorSpecs = std::vector<std::pair<std::string, std::pair<DType, Shape>>>;

// The header a GGUF file with these metadata and tensors gets, tensors laid
// out (alignment from general.alignment, else the default): what the writer
// will produce, for sizes computed before writing.
io::GgufHeader planned_gguf_header(const std::vector<io::GgufKv>& kvs, const TensorSpecs& tensors);

struct DynamicPlan {
  std::map<std::string, DType> types;             // allocatable tensors only
  std::map<std::string, double> estimated_error;  // importance-weighted squared error of the chosen type
  uint64_t budget_bytes = 0;                      // for the allocatable tensors
};

// Applies a profile's rules to the quantizable tensors (types in file order,
// rule types replaced by llama.cpp's fallback where the rows do not fit);
// with `use_default` the default type covers tensors no rule matches.
// Returns the tensors a rule matched.
std::set<std::string> apply_profile(const methods::QuantProfile& p,
                                    const std::vector<const model::SourceTensor*>& order, std::vector<DType>& types,
                                    int n_layers, bool use_default, bool quantize_output);

// `types` holds the reference mixture's type for every tensor in file order,
// `target_bytes` the whole file's budget (dynamic_target_bytes);
// tensors of decoder blocks that it quantizes, except `pinned`, are re-allocated;
// `protected_tensors` only among candidates of at least `protection_min_bits`.
DynamicPlan plan_dynamic(const model::TensorSource& src, const std::vector<const model::SourceTensor*>& order,
                         const std::vector<DType>& types, const std::vector<io::GgufKv>& kvs, uint64_t target_bytes,
                         const methods::ImportanceMatrix* imatrix, const DynamicQuantOptions& o,
                         const std::set<std::string>& pinned, const std::set<std::string>& protected_tensors,
                         double protection_min_bits, ThreadPool& pool, ProgressSink& progress);

}  // namespace libquant::jobs
