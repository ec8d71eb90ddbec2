#pragma once
// Regular expressions that come from users and files (--tensor-type,
// .dqprofile rules, compressed-tensors "re:" targets). They run on RE2, whose
// matching time is linear in the input whatever the pattern: a pattern such
// as ^(((.*)*)*)*[$]$ costs microseconds, not minutes of backtracking.
// Syntax is RE2's (Perl-like, without backreferences or lookaround).
#include <memory>
#include <string>
#include <string_view>

#include "libquant/core/error.hpp"
#include "libquant/export.hpp"

namespace re2 {
class RE2;
}

namespace libquant {

class LIBQUANT_API Pattern {
 public:
  // Throws Error(code) naming `what` when the pattern does not compile.
  Pattern(std::string_view regex, ErrorCode code = ErrorCode::InvalidArgument, std::string_view what = "pattern");
  // Whether the pattern matches somewhere in `text` (std::regex_search).
  bool search(std::string_view text) const;
  // Whether it matches all of `text` (std::regex_match).
  bool full_match(std::string_view text) const;
  const std::string& source() const noexcept { return source_; }

 private:
  std::string source_;
  std::shared_ptr<const re2::RE2> re_;
};

}  // namespace libquant
