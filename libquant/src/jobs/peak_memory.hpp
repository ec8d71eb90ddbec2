#pragma once
// Peak resident set size of this process, from /proc/self/status (VmHWM).
#include <cstdint>

namespace libquant::jobs {
uint64_t peak_rss_bytes() noexcept;
}
