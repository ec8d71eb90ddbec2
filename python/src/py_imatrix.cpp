// libquant.ImportanceMatrix: llama.cpp's imatrix (either file layout) whose
// per-column sums are writable numpy views of the object's own storage.
#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "libquant/core/error.hpp"
#include "libquant/methods/importance_matrix.hpp"

namespace libquant::python {

namespace {

using methods::ImatrixEntry;
using methods::ImportanceMatrix;

const ImatrixEntry& entry_named(const ImportanceMatrix& m, const std::string& name) {
  const ImatrixEntry* e = m.find(name);
  check(e != nullptr, ErrorCode::InvalidArgument, "the importance matrix has no entry '" + name + "'",
        "List them with .names()");
  return *e;
}

void save(const ImportanceMatrix& m, const std::filesystem::path& path, const std::string& layout) {
  const bool gguf = layout == "gguf" || (layout == "auto" && path.extension() == ".gguf");
  check(layout == "auto" || layout == "gguf" || layout == "legacy", ErrorCode::InvalidArgument,
        "layout must be 'auto', 'gguf' or 'legacy', not '" + layout + "'");
  nb::gil_scoped_release release;
  if (gguf)
    m.save_gguf(path);
  else
    m.save_legacy(path);
}

}  // namespace

void bind_imatrix(nb::module_& m) {
  nb::class_<ImportanceMatrix>(m, "ImportanceMatrix", nb::dynamic_attr(),
                               "Per linear weight, per input column: the sum of squared activations over the "
                               "calibration tokens (llama.cpp's imatrix).")
      .def(nb::init<>())
      .def_static(
          "load",
          [](const std::filesystem::path& path) {
            nb::gil_scoped_release release;
            return ImportanceMatrix::load(path);
          },
          nb::arg("path"), "Read an imatrix file of either layout (legacy .dat or GGUF), validated.")
      .def("save", &save, nb::arg("path"), nb::arg("layout") = "auto",
           "Write it: 'gguf' or 'legacy' layout; 'auto' picks GGUF for a .gguf path.")
      .def("names",
           [](const ImportanceMatrix& im) {
             std::vector<std::string> out;
             for (const auto& e : im.entries()) out.push_back(e.name);
             return out;
           })
      .def("__len__", [](const ImportanceMatrix& im) { return im.entries().size(); })
      .def("__contains__", [](const ImportanceMatrix& im, const std::string& n) { return im.find(n) != nullptr; })
      .def(
          "sums",
          [](nb::handle self, const std::string& name) {
            const ImatrixEntry& e = entry_named(nb::cast<const ImportanceMatrix&>(self), name);
            // Writable on purpose: scaling or editing the statistics in place is what users do before saving.
            auto* data = const_cast<float*>(e.sums.data());
            return nb::ndarray<nb::numpy, float, nb::ndim<1>>(data, {e.sums.size()}, self);
          },
          nb::arg("name"),
          "The entry's per-column sums of x^2: a view of the matrix's storage (no copy; edits are saved).")
      .def(
          "mean",
          [](const ImportanceMatrix& im, const std::string& name) {
            // The new vector itself becomes the array's storage (no second copy).
            auto* mean = new std::vector<float>(entry_named(im, name).mean());
            nb::capsule owner(mean, [](void* p) noexcept { delete static_cast<std::vector<float>*>(p); });
            return nb::ndarray<nb::numpy, float, nb::ndim<1>>(mean->data(), {mean->size()}, owner);
          },
          nb::arg("name"), "Per-column mean of x^2: what quantizers weigh errors by (imatrix= of gguf.quantize).")
      .def(
          "count", [](const ImportanceMatrix& im, const std::string& name) { return entry_named(im, name).count; },
          nb::arg("name"), "Activation rows (tokens) the entry saw.")
      .def_rw("chunks", &ImportanceMatrix::chunks)
      .def_rw("chunk_size", &ImportanceMatrix::chunk_size)
      .def_rw("datasets", &ImportanceMatrix::datasets);
}

}  // namespace libquant::python
