#include "libquant/core/pattern.hpp"

#include <re2/re2.h>

namespace libquant {

Pattern::Pattern(std::string_view regex, ErrorCode code, std::string_view what) : source_(regex) {
  RE2::Options o;
  o.set_log_errors(false);  // the library logs through its own channel, never to stderr directly
  o.set_max_mem(int64_t{64} << 20);
  auto re = std::make_shared<const RE2>(re2::StringPiece(source_.data(), source_.size()), o);
  if (!re->ok())
    throw Error(code, std::string(what) + " '" + source_ + "' is not a valid regular expression: " + re->error(),
                "Patterns use RE2 syntax (no backreferences or lookaround)");
  re_ = std::move(re);
}

bool Pattern::search(std::string_view text) const {
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

bool Pattern::full_match(std::string_view text) const {
  return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

}  // namespace libquant
