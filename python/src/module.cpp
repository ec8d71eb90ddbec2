// libquant._core: the compiled half of the libquant Python package
// (python/libquant/ re-exports it with documentation and Python-side types).
#include <nanobind/nanobind.h>

#include "bindings.hpp"
#include "libquant/version.hpp"

NB_MODULE(_core, m) {
  namespace py = libquant::python;
  m.doc() = "libquant: LLM compression (GGUF, imatrix, SmoothQuant, LittleBit) - compiled core";
  m.attr("__version__") = LIBQUANT_VERSION_STRING;
  py::bind_errors(m);
  py::bind_logging(m);
  nanobind::module_ gguf = m.def_submodule("gguf", "GGUF block codecs and files");
  py::bind_codecs(gguf);
  py::bind_gguf_file(gguf);
  py::bind_imatrix(m);
  py::bind_jobs(m);
}
