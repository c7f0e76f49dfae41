# netlab_module(NAME [DEPS lib...] [LIBS external...])
#
# One static library per src/ directory. Its headers are reachable as
# "<name>/<file>.hpp" only by targets that link it: each module gets a private
# include root in the build tree holding a single symlink to its own source
# directory, so "lab knows nothing of TOML" is enforced by the compiler.
function(netlab_module name)
  cmake_parse_arguments(M "" "" "DEPS;LIBS" ${ARGN})
  set(inc_root "${CMAKE_BINARY_DIR}/include/${name}")
  file(MAKE_DIRECTORY "${inc_root}")
  file(CREATE_LINK "${CMAKE_SOURCE_DIR}/src/${name}" "${inc_root}/${name}" SYMBOLIC)
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/src/${name}/*.cpp")
  if(NOT sources)  # a module not yet written still gets its target and include root
    set(sources "${CMAKE_BINARY_DIR}/empty_${name}.cpp")
    file(WRITE "${sources}" "// placeholder for an empty module\n")
  endif()
  add_library(netlab_${name} STATIC ${sources})
  # Build tree only: an installed consumer sees the public header (include/netlab) alone.
  target_include_directories(netlab_${name} PUBLIC "$<BUILD_INTERFACE:${inc_root}>")
  foreach(dep IN LISTS M_DEPS)
    target_link_libraries(netlab_${name} PUBLIC netlab_${dep})
  endforeach()
  target_link_libraries(netlab_${name} PUBLIC ${M_LIBS})
endfunction()
