# Project-wide compile options applied through an interface target, so generated code is not affected.
add_library(auscult_options INTERFACE)
target_compile_options(auscult_options INTERFACE -Wall -Wextra -Wnon-virtual-dtor -Wno-unused-parameter
                       $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>)
if(AUSCULT_WERROR)
  target_compile_options(auscult_options INTERFACE -Werror)
endif()
target_include_directories(auscult_options INTERFACE ${CMAKE_SOURCE_DIR})

if(AUSCULT_SANITIZE)
  string(REPLACE "," ";" _sanitizers "${AUSCULT_SANITIZE}")
  foreach(_s IN LISTS _sanitizers)
    add_compile_options(-fsanitize=${_s})
    add_link_options(-fsanitize=${_s})
  endforeach()
  add_compile_options(-fno-omit-frame-pointer)
  # GCC 12's flow analysis is confused by the sanitizers' instrumentation and reports
  # maybe-uninitialized inside libstdc++ (std::regex's NFA, std::function moves) with -Werror.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()

if(AUSCULT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AUSCULT_FUZZ needs clang: -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
  endif()
  # Coverage instrumentation plus the sanitizers that turn silent corruption into a crash.
  # -fno-sanitize-recover: undefined behaviour stops the run, so the fuzzer sees it as a crash.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # `fuzzers` builds every target below and nothing else: the test suite's fuzz build wants no more.
  add_custom_target(fuzzers)
endif()

# auscult_fuzzer(NAME SOURCE LIBRARY...): a libFuzzer target in build/bin, part of `fuzzers`.
function(auscult_fuzzer name source)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${ARGN})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  add_dependencies(fuzzers ${name})
endfunction()
