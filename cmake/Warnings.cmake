# Project-wide compile options applied through an interface target, so generated code is not affected.
add_library(auscult_options INTERFACE)
target_compile_options(auscult_options INTERFACE -Wall -Wextra -Wshadow=local -Wnon-virtual-dtor
                       -Wno-unused-parameter)
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
endif()
