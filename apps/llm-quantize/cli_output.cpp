#include "cli_output.hpp"

#include "libquant/jobs/quality_report.hpp"
#include "hub_models.hpp"
#include "library_wording.hpp"

#include <filesystem>

#include "libquant/core/log.hpp"
#include "libquant/core/progress.hpp"

#include <cstdio>
#include <iostream>

namespace cli {

void print_json(const libquant::JsonWriter& j) { std::cout << j.str() << std::endl; }

bool progress_enabled(const GlobalOptions& g) {
  return g.mode == OutputMode::Human && libquant::TerminalProgress::stderr_is_terminal() &&
         libquant::verbosity() != libquant::Verbosity::Quiet;
}

int report_error(const GlobalOptions& g, libquant::ErrorCode code, const std::string& library_message,
                 const std::string& library_suggestion) {
  const std::string message = in_cli_terms(library_message), suggestion = in_cli_terms(library_suggestion);
  if (g.mode == OutputMode::Json) {
    libquant::JsonWriter j(2);
    j.begin_object()
        .field("status", "error")
        .field("error_code", static_cast<int>(code))
        .field("error_type", std::string(libquant::error_type_name(code)))
        .field("message", message);
    if (suggestion.empty())
      j.key("suggestion").null();
    else
      j.field("suggestion", suggestion);
    j.end_object();
    print_json(j);
  } else {
    std::cerr << "Error: " << message << "\n";
    if (!suggestion.empty()) std::cerr << "Suggestion: " << suggestion << "\n";
  }
  return static_cast<int>(code);
}

std::string human_size(uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000.0 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string with_commas(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
    s.push_back(digits[i]);
  }
  return s;
}

libquant::DType parse_ggml_type(const std::string& name, const std::string& flag) {
  const auto t = libquant::ggml_type_from_name(name);
  if (!t)
    throw libquant::Error(libquant::ErrorCode::InvalidArgument, "unknown tensor type '" + name + "' for " + flag,
                          "Use a ggml type such as Q8_0, Q6_K or F16");
  return *t;
}

std::string shell_command_line(int argc, const char* const* argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789_./=:@%+,-") == std::string_view::npos;
    if (i) out += ' ';
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';  // single quotes keep everything but a single quote, written '\''
    for (const char c : a) {
      if (c == '\'')
        out.append("'\\''");
      else
        out.push_back(c);
    }
    out += '\'';
  }
  return out;
}

std::string model_stem(const std::string& model) {
  namespace fs = std::filesystem;
  if (std::string hub_name = hub_display_name(model); !hub_name.empty()) return hub_name;
  if (fs::path(model).extension() == ".gguf") return fs::path(model).stem().string();
  return fs::absolute(model).lexically_normal().filename().string();
}

}  // namespace cli
