# Warnings and sanitizers, applied through an interface target so that
# nothing leaks into the installed package's usage requirements.
add_library(libquant_warnings INTERFACE)
target_compile_options(libquant_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter>)

if(LIBQUANT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# gcov-format counters (GCC and Clang alike): the .gcda files of every test
# process are merged under a file lock, so parallel ctest runs add up.
if(LIBQUANT_COVERAGE)
  add_compile_options(--coverage)
  add_link_options(--coverage)
endif()

# Let calls between exported functions inside libquant be inlined (the shared
# library is never interposed by design).
add_compile_options($<$<COMPILE_LANG_AND_ID:CXX,GNU>:-fno-semantic-interposition>)

# llama.cpp builds its reference kernels without FMA contraction of x*y+z in the
# places that matter for rounding; match that so codecs are bit-exact.
add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-ffp-contract=off>)

# Coverage instrumentation for libFuzzer must reach the library, not only the
# fuzz target's own translation unit.
if(LIBQUANT_BUILD_FUZZ AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
