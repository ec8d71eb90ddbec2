#pragma once
// A .littlebit file as a TensorSource: dense tensors as stored, factorized
// weights as f32 tensors whose rows are reconstructed on demand (so GGUF
// export, quality reports and every other consumer work unchanged), and the
// packed factors themselves for engines that run them directly.
#include <filesystem>
#include <memory>
#include <string_view>

#include "libquant/cpu/littlebit_linear.hpp"
#include "libquant/export.hpp"
#include "libquant/io/littlebit_file.hpp"
#include "libquant/model/tensor_source.hpp"

namespace libquant::model {

// Throws Error(ValidationFailed) for a damaged file (see io/littlebit_file.hpp).
LIBQUANT_API std::unique_ptr<TensorSource> open_littlebit_source(const std::filesystem::path& path);

// The .littlebit file behind a source (seeing through wrappers), or null.
LIBQUANT_API const io::LittleBitFile* littlebit_file(const TensorSource& s) noexcept;

// The packed factors of a GGUF-named weight when the source stores it
// factorized; nullptr otherwise.
LIBQUANT_API std::unique_ptr<cpu::LittleBitFactors> littlebit_factors(const TensorSource& s, std::string_view name);

}  // namespace libquant::model
