# The embedding contract, checked on the library's sources (cmake -P, with
# -DROOT=<source tree>): libquant reads no environment variable, never ends the
# process, writes to the standard streams only from its default log sink
# (core/log.cpp) and the opt-in terminal progress bar (core/progress.cpp), and
# its messages name options by their field names in backticks (`ctx`), never
# by the CLI's flags or commands (the CLI translates: library_wording.cpp). A
# line ending in "// another tool's flag" may quote another program's flag.
# Every violation is listed with its file and line; any fails the test.
cmake_minimum_required(VERSION 3.20)
if(NOT ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source tree> -P library_contract.cmake")
endif()

set(rules
  "environment|(^|[^A-Za-z_])(secure_getenv|getenv|setenv|putenv|unsetenv)[ ]*\\(|(^|[^A-Za-z_])environ([^A-Za-z_]|$)"
  "process exit|(^|[^A-Za-z_.])(std::)?(exit|_Exit|quick_exit|abort|terminate)[ ]*\\("
  "standard stream|std::(cout|cerr|clog)|(^|[^A-Za-z_])(printf|puts|perror)[ ]*\\(|(^|[^A-Za-z_])(stdout|stderr)([^A-Za-z_]|$)")
# Checked on string literals (the rules above on code outside them).
set(wording_rule "\"[^\"]*(--[a-z]|-q dynamic|llm-quantize [a-z])")
set(stream_writers "libquant/src/core/log.cpp" "libquant/src/core/progress.cpp")

file(GLOB_RECURSE sources RELATIVE ${ROOT}
  ${ROOT}/libquant/src/*.cpp ${ROOT}/libquant/src/*.hpp ${ROOT}/libquant/src/*.h ${ROOT}/libquant/src/*.inc
  ${ROOT}/libquant/include/*.hpp ${ROOT}/libquant/include/*.h
  ${ROOT}/libquant_cuda/src/*.cpp ${ROOT}/libquant_cuda/src/*.cu ${ROOT}/libquant_cuda/src/*.hpp ${ROOT}/libquant_cuda/src/*.cuh)
list(LENGTH sources n_sources)
if(n_sources LESS 50)
  message(FATAL_ERROR "found only ${n_sources} library sources under ${ROOT}: wrong ROOT?")
endif()

set(violations 0)
foreach(f ${sources})
  file(STRINGS ${ROOT}/${f} lines)
  set(line_no 0)
  foreach(line IN LISTS lines)
    math(EXPR line_no "${line_no} + 1")
    string(REGEX REPLACE "//.*$" "" code "${line}")  # comments may name anything
    if(f MATCHES "\\.h$")  # the C API's header: its /* ... */ comments too
      string(REGEX REPLACE "/\\*.*$" "" code "${code}")
      string(REGEX REPLACE "^[ \t]*\\*.*$" "" code "${code}")
    endif()
    if(code MATCHES "${wording_rule}" AND NOT line MATCHES "// another tool's flag$")
      message("${f}:${line_no}: CLI wording in a library message: ${line}")
      math(EXPR violations "${violations} + 1")
    endif()
    string(REGEX REPLACE "\"([^\"\\\\]|\\\\.)*\"" "\"\"" code "${code}")  # and so may string literals
    foreach(rule IN LISTS rules)
      string(REGEX MATCH "^([^|]*)\\|(.*)$" _ "${rule}")
      set(what "${CMAKE_MATCH_1}")
      set(pattern "${CMAKE_MATCH_2}")
      if(what STREQUAL "standard stream" AND f IN_LIST stream_writers)
        continue()
      endif()
      if(code MATCHES "${pattern}")
        message("${f}:${line_no}: ${what}: ${line}")
        math(EXPR violations "${violations} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()
if(violations GREATER 0)
  message(FATAL_ERROR "${violations} violation(s) of the embedding contract in ${n_sources} library files")
endif()
message("embedding contract holds in ${n_sources} library files")
