#pragma once
// How llama.cpp's HF -> GGUF converter names a BPE pre-tokenizer: it encodes
// a fixed check text with the model's tokenizer (special tokens included) and
// looks the SHA-256 of the printed id list ("[1, 2, 3]") up in its table. A
// name stands for split rules every GGUF reader applies, so matching the hash,
// not the regex, is what makes our GGUF say what llama.cpp's would.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace libquant::eval {

std::string_view pre_check_text() noexcept;
// Lower-case hex SHA-256 of Python's str() of the list of ids.
std::string ids_hash(const std::vector<int32_t>& ids);
// The converter's name for a check-text hash, or "" when it knows none.
std::string_view pre_name_of_hash(std::string_view hash) noexcept;

}  // namespace libquant::eval
