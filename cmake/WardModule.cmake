# SPDX-License-Identifier: Apache-2.0
# Helpers used by lib/<module>/CMakeLists.txt.

# ward_unit_test(<module> <source>): one executable per test file, one
# CTest test per WARD_TEST(case) found in the source ("<module>/<case>").
function(ward_unit_test module src)
  get_filename_component(base ${src} NAME_WE)
  set(exe ${module}-${base})
  add_executable(${exe} ${src})
  target_link_libraries(${exe} PRIVATE ward_test libward)
  target_compile_definitions(${exe} PRIVATE
    WARD_DEFAULT_VECTORS="${WARD_VECTORS}" WARD_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    WARD_BINARY_DIR="${CMAKE_BINARY_DIR}")
  ward_target_flags(${exe})
  file(READ ${src} content)
  string(REGEX MATCHALL "WARD_TEST\\(([A-Za-z0-9_]+)\\)" cases "${content}")
  foreach(c ${cases})
    string(REGEX REPLACE "WARD_TEST\\(([A-Za-z0-9_]+)\\)" "\\1" name "${c}")
    add_test(NAME ${module}/${name} COMMAND ${exe} ${name})
    set_tests_properties(${module}/${name} PROPERTIES
      LABELS "unit;${module}" ENVIRONMENT "WARD_VECTORS=${WARD_VECTORS}")
  endforeach()
endfunction()

# ward_fuzz_target(<name> <source> CORPUS <dir>...): with WARD_FUZZ a
# libFuzzer binary fuzz-<name>; otherwise a replay binary that runs every
# corpus file once under CTest ("fuzz-replay/<name>").
function(ward_fuzz_target name src)
  cmake_parse_arguments(F "" "" "CORPUS" ${ARGN})
  set(exe fuzz-${name})
  if(WARD_FUZZ)
    add_executable(${exe} ${src})
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${exe} ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz-replay.c)
  endif()
  target_link_libraries(${exe} PRIVATE libward)
  ward_target_flags(${exe})
  set(dirs ${CMAKE_SOURCE_DIR}/tests/data/fuzz/${name} ${F_CORPUS})
  if(WARD_FUZZ)
    # The fuzz preset's CTest still replays (libFuzzer runs the files given).
    add_test(NAME fuzz-replay/${name} COMMAND ${exe} -runs=0 ${CMAKE_SOURCE_DIR}/tests/data/fuzz/${name})
  else()
    add_test(NAME fuzz-replay/${name} COMMAND ${exe} ${dirs})
  endif()
  set_tests_properties(fuzz-replay/${name} PROPERTIES LABELS "fuzz")
  set_property(GLOBAL APPEND PROPERTY WARD_FUZZ_TARGETS ${name})
endfunction()
