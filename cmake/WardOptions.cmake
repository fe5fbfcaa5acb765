# SPDX-License-Identifier: Apache-2.0
# Warnings, hardening, sanitizer and fuzz flags (see STYLE.md §10).

set(WARD_WARNINGS
  -Wall -Wextra -Wformat=2 -Wshadow -Wvla -Wmissing-prototypes -Wstrict-prototypes
  -Wwrite-strings -Wnull-dereference -Wno-unused-parameter)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  # snprintf truncation is deliberate (bounded messages); do not warn about it
  list(APPEND WARD_WARNINGS -Wno-format-truncation)
endif()
if(WARD_WERROR)
  list(APPEND WARD_WARNINGS -Werror)
endif()

# Test-only switches that weaken security (named *insecure*, warning each
# time they act) exist in development and test builds; distribution builds
# (the 'dist' preset) leave them out.
option(WARD_INSECURE_TEST_SWITCHES "Build test-only insecure switches" ON)
if(WARD_INSECURE_TEST_SWITCHES)
  add_compile_definitions(WARD_INSECURE_TEST_SWITCHES=1)
else()
  add_compile_definitions(WARD_INSECURE_TEST_SWITCHES=0)
endif()

set(WARD_HARDEN_COMPILE -fstack-protector-strong -fPIE -fvisibility=hidden)
set(WARD_HARDEN_LINK -pie -Wl,-z,relro,-z,now)

# _FORTIFY_SOURCE needs optimisation and conflicts with sanitizers.
if(NOT WARD_SANITIZE AND NOT WARD_FUZZ AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  list(APPEND WARD_HARDEN_COMPILE -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3)
endif()

set(WARD_SAN_FLAGS "")
if(WARD_SANITIZE OR WARD_FUZZ)
  set(WARD_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
      -fno-omit-frame-pointer)
endif()
if(WARD_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "WARD_FUZZ needs clang (use the 'fuzz' preset)")
  endif()
  # Library code gets coverage instrumentation; targets link the fuzzer main.
  list(APPEND WARD_SAN_FLAGS -fsanitize=fuzzer-no-link)
  add_compile_definitions(WARD_FUZZING=1)
endif()

function(ward_target_flags tgt)
  target_compile_options(${tgt} PRIVATE ${WARD_WARNINGS} ${WARD_HARDEN_COMPILE} ${WARD_SAN_FLAGS})
  target_compile_definitions(${tgt} PRIVATE _GNU_SOURCE)
  get_target_property(type ${tgt} TYPE)
  if(type STREQUAL "EXECUTABLE")
    target_link_options(${tgt} PRIVATE ${WARD_HARDEN_LINK} ${WARD_SAN_FLAGS})
  endif()
endfunction()
