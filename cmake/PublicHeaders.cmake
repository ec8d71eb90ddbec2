# The installed headers are the public API: libquant.hpp, the C API's
# libquant/c/libquant.h, and every libquant header they reach through #include "libquant/..." (so the installed tree is
# self-contained by construction). Headers outside that closure stay private.
#
# libquant_public_headers(<include dir> <out var>): paths relative to <include dir>.
function(libquant_public_headers include_dir out)
  set(todo "libquant/libquant.hpp" "libquant/c/libquant.h")
  set(seen)
  while(todo)
    list(POP_FRONT todo h)
    if(h IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${h})
    if(NOT EXISTS ${include_dir}/${h})
      continue()  # generated (export.hpp, version.hpp): installed from the build tree
    endif()
    file(STRINGS ${include_dir}/${h} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"libquant/")
    foreach(line IN LISTS lines)
      if(line MATCHES "\"(libquant/[^\"]+)\"")
        list(APPEND todo ${CMAKE_MATCH_1})
      endif()
    endforeach()
  endwhile()
  set(headers)
  foreach(h IN LISTS seen)
    if(EXISTS ${include_dir}/${h})
      list(APPEND headers ${h})
    endif()
  endforeach()
  list(SORT headers)
  set(${out} ${headers} PARENT_SCOPE)
endfunction()
