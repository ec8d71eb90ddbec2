#pragma once
// The pieces of libquant._core (one file each) and what they share.
#include <nanobind/nanobind.h>

#include <string>

#include "libquant/core/dtype.hpp"

namespace libquant::python {

namespace nb = nanobind;

void bind_errors(nb::module_& m);
void bind_logging(nb::module_& m);
void bind_codecs(nb::module_& gguf);
void bind_gguf_file(nb::module_& gguf);
void bind_imatrix(nb::module_& m);
void bind_jobs(nb::module_& m);

// A ggml type by name ("Q4_K", "q8_0", "F16"); Error(InvalidArgument) otherwise.
DType ggml_type_named(const std::string& name);

// A job's JSON record (jobs/result_json.hpp) as Python objects: the same
// fields `llm-quantize --format json` prints (docs/cli.md).
nb::object parse_record(const std::string& json);

}  // namespace libquant::python
