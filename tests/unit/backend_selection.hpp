#pragma once
// Which backends the [backend] tests run on (the runner's --backend option).
#include <string>

namespace test {

inline std::string& backend_selection() {
  static std::string selection = "all";
  return selection;
}

}  // namespace test
