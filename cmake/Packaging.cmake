include(CMakePackageConfigHelpers)

install(TARGETS libquant EXPORT libquantTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
include(${CMAKE_CURRENT_LIST_DIR}/PublicHeaders.cmake)
libquant_public_headers(${PROJECT_SOURCE_DIR}/libquant/include LIBQUANT_PUBLIC_HEADERS)
foreach(h IN LISTS LIBQUANT_PUBLIC_HEADERS)
  get_filename_component(dir ${h} DIRECTORY)
  install(FILES libquant/include/${h} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/${dir})
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/generated/libquant/export.hpp
              ${PROJECT_BINARY_DIR}/generated/libquant/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/libquant)
install(EXPORT libquantTargets NAMESPACE libquant::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/libquant)
configure_package_config_file(cmake/libquantConfig.cmake.in
  ${PROJECT_BINARY_DIR}/libquantConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/libquant)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/libquantConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/libquantConfig.cmake
              ${PROJECT_BINARY_DIR}/libquantConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/libquant)
