# libquant's modules and the order they may depend on each other: a file of a
# module includes headers of its own module and of modules on lower levels
# only (public `libquant/<module>/...`, private `<module>/...` or
# `../<module>/...`). Modules on one level are independent of each other.
# Checked when libquant is configured, so an upward include fails the build;
# ctest's lint.layering* tests run the same check with -P.
#
#   cmake -DROOT=<source tree> [-DEXTRA_FILE=<file> -DEXTRA_MODULE=<module>] -P cmake/Layering.cmake
#
# EXTRA_FILE is checked as if it were a source of EXTRA_MODULE (the negative test).
set(LIBQUANT_LAYERS
  "core"
  "cpu|gguf|calib"   # kernels, GGUF block codecs and file-type rules, calibration statistics
  "backend"          # compute backends over the CPU kernels and codecs
  "io"               # file formats
  "model"            # architectures, configs, tensor sources
  "eval"             # tokenizers, forward pass, perplexity
  "methods"          # quantization algorithms
  "jobs"             # whole jobs behind the CLI commands
  "c")               # the C API over all of it

function(libquant_module_level module out)
  set(level 0)
  foreach(layer IN LISTS LIBQUANT_LAYERS)
    if(module MATCHES "^(${layer})$")
      set(${out} ${level} PARENT_SCOPE)
      return()
    endif()
    math(EXPR level "${level} + 1")
  endforeach()
  set(${out} -1 PARENT_SCOPE)
endfunction()

# Appends "file:line: message" for every upward or sideways include of `file`
# (a source of `module`) to the list named by `out`.
function(libquant_check_includes file module out)
  libquant_module_level(${module} own)
  set(found ${${out}})
  file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS includes)
    if(NOT line MATCHES "\"(libquant/|\\.\\./)?([a-z_]+)/[^\"]+\"")
      continue()
    endif()
    set(target ${CMAKE_MATCH_2})
    libquant_module_level(${target} level)
    if(level LESS 0 OR target STREQUAL module)
      continue()
    endif()
    if(NOT level LESS own)
      list(APPEND found "${file}: ${module} (level ${own}) includes ${target} (level ${level}): ${line}")
    endif()
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

function(libquant_check_layering root)
  set(problems)
  set(modules)
  foreach(layer IN LISTS LIBQUANT_LAYERS)
    string(REPLACE "|" ";" layer_modules "${layer}")
    list(APPEND modules ${layer_modules})
  endforeach()
  foreach(module IN LISTS modules)
    file(GLOB_RECURSE files ${root}/libquant/src/${module}/* ${root}/libquant/include/libquant/${module}/*)
    foreach(f IN LISTS files)
      libquant_check_includes(${f} ${module} problems)
    endforeach()
  endforeach()
  # Every directory under src/ and include/libquant/ must be a known module.
  file(GLOB dirs LIST_DIRECTORIES true ${root}/libquant/src/* ${root}/libquant/include/libquant/*)
  foreach(d IN LISTS dirs)
    if(IS_DIRECTORY ${d})
      get_filename_component(name ${d} NAME)
      libquant_module_level(${name} level)
      if(level LESS 0)
        list(APPEND problems "${d}: a directory that is no module of cmake/Layering.cmake")
      endif()
    endif()
  endforeach()
  if(EXTRA_FILE)
    libquant_check_includes(${EXTRA_FILE} ${EXTRA_MODULE} problems)
  endif()
  if(problems)
    foreach(p IN LISTS problems)
      message("layering: ${p}")  # unwrapped, one line each
    endforeach()
    list(LENGTH problems n)
    message(FATAL_ERROR "libquant's layering is broken in ${n} place(s): modules include only lower levels (cmake/Layering.cmake)")
  endif()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND NOT CMAKE_PARENT_LIST_FILE)
  if(NOT ROOT)
    message(FATAL_ERROR "usage: cmake -DROOT=<source tree> -P Layering.cmake")
  endif()
  libquant_check_layering(${ROOT})
  message("layering holds")
endif()
