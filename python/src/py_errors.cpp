// libquant::Error → the Python exception of its code (libquant.errors), and
// the library's log messages → a Python callable.
#include <nanobind/stl/string.h>

#include <exception>
#include <string>
#include <string_view>

#include "bindings.hpp"
#include "libquant/core/error.hpp"
#include "libquant/core/log.hpp"

namespace libquant::python {

namespace {

// Raises libquant.errors' exception for the code (the Python classes are
// defined there; tests check they cover every code of this table).
void raise_python_error(const Error& e) {
  nb::object errors = nb::module_::import_("libquant.errors");
  nb::object exc = errors.attr("_from_code")(e.exit_code(), std::string(e.what()), e.suggestion());
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
}

// The Python callable receiving log messages: owned here (a strong reference
// for the process's lifetime; replacing it drops the old one).
PyObject* g_log_callback = nullptr;

}  // namespace

void bind_errors(nb::module_& m) {
  m.def(
      "_error_codes",
      [] {
        nb::list out;
        for (int code = 0; code < 256; ++code) {
          const std::string_view name = error_type_name(static_cast<ErrorCode>(code));
          if (name != "Error") out.append(nb::make_tuple(code, std::string(name)));
        }
        return out;
      },
      "Every exit code with its error_type name (for libquant.errors' self-check).");
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const Error& e) {
      raise_python_error(e);
    }
  });
}

void bind_logging(nb::module_& m) {
  m.def(
      "set_log_callback",
      [](nb::object fn) {
        nb::object old = nb::steal(g_log_callback);
        g_log_callback = nullptr;
        if (fn.is_none()) {
          set_log_sink({});
          return;
        }
        g_log_callback = fn.release().ptr();
        set_log_sink([](LogLevel level, std::string_view message) {
          nb::gil_scoped_acquire gil;
          if (!g_log_callback) return;
          try {
            const nb::handle callback(g_log_callback);
            callback(static_cast<int>(level), std::string(message));
          } catch (nb::python_error& e) {
            e.discard_as_unraisable("libquant log callback");
          }
        });
      },
      nb::arg("callback").none(),
      "Route library messages to callback(level, message) (level: 0 info, 1 warning, 2 verbose, 3 debug); "
      "None restores the default (stderr).");
  m.def(
      "set_verbosity",
      [](int v) {
        check(v >= 0 && v <= 3, ErrorCode::InvalidArgument, "verbosity must be 0 to 3");
        set_verbosity(static_cast<Verbosity>(v));
      },
      nb::arg("verbosity"), "0 quiet, 1 normal (default), 2 verbose, 3 debug.");
}

}  // namespace libquant::python
