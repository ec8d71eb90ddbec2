#include "flag_checks.hpp"

#include <cmath>
#include <cstdlib>
#include <string>

namespace cli {

namespace {
// Whether s reads entirely as a number that is NaN or infinite.
bool is_non_finite_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && !std::isfinite(v);
}

void screen(const CLI::App& app) {
  for (const CLI::Option* opt : app.get_options())
    for (const std::string& r : opt->results())
      if (is_non_finite_number(r)) throw CLI::ValidationError(opt->get_name(), "'" + r + "' is not a finite number");
  for (const CLI::App* sub : app.get_subcommands()) screen(*sub);
}
}  // namespace

CLI::Validator finite_range(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end != s.c_str() + s.size() || s.empty()) return "'" + s + "' is not a number";
        if (!std::isfinite(v) || v < lo || v > hi)
          return "'" + s + "' is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
        return {};
      },
      "FINITE in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

CLI::Validator finite_positive() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end != s.c_str() + s.size() || s.empty()) return "'" + s + "' is not a number";
        if (!std::isfinite(v) || v <= 0) return "'" + s + "' must be a finite number > 0";
        return {};
      },
      "POSITIVE");
}

CLI::Validator plain_file_name() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s.empty() || s == "." || s == ".." || s.find('/') != std::string::npos || s.find('\0') != std::string::npos)
          return "'" + s + "' is not a plain file name (the directory is --output-dir)";
        return {};
      },
      "NAME");
}

CLI::Validator thread_count() { return CLI::Range(int64_t{0}, int64_t{4096}); }

void reject_non_finite_values(const CLI::App& app) { screen(app); }

}  // namespace cli
