# The HTML graph page (`auscult graph --format=html`) draws with a subset of d3 that is vendored at
# configure time: pinned npm tarballs, each checked against the SHA-512 the registry published for
# it (`npm view PKG@VER dist.integrity`), so no unreviewed code reaches the page and nothing of d3 is
# committed. The page is assembled here and compiled into the CLI as a byte array; the binary needs
# no file at run time and the page nothing from the network when it is opened.
option(AUSCULT_GRAPH_HTML "auscult graph --format=html (vendors d3 from the npm registry at configure time)" ON)
set(AUSCULT_NPM_REGISTRY "https://registry.npmjs.org" CACHE STRING "npm registry that the d3 tarballs come from")
set(AUSCULT_JS_TARBALL_DIR "" CACHE PATH
    "Folder holding the d3 tarballs (NAME-VERSION.tgz, e.g. from 'npm pack'), for builds without the registry")

# NAME|VERSION|SHA-512 of the tarball. In dependency order: each UMD file reads the d3 global that
# the ones before it filled. d3-force and d3-selection stay on 3.0.0, the releases of 2021 that
# d3 7.x ships: their 3.0.1 (November 2026) changed only the packaging, and was too new to adopt
# unreviewed.
set(_auscult_d3_packages
  "d3-dispatch|3.0.1|af35323d4fd2eebc147e53322dcd444c37818f4351b8728a01cbee928cf086c86bea0e9ce5df338787368108d8d9b6747577862d67353c5d7be0fdad56f2a17e"
  "d3-timer|3.0.1|9dd7c9fc9c7131dde7c37d6ec8aa18da76a2bc5fabdbd57e2dcd2cbd9c5ed49bef2119a2f2152caccbdd3b0812d68eae0479a2cfdd60790d3294f3f46a3d5550"
  "d3-quadtree|3.0.1|d38c43af14130d3085c0fe47ea1461b1171bf71c6fd91ce472cca01739a4488389cb73de4493fbb0d93755121b297728839eb53fda14d3fad51fabc344e02053"
  "d3-force|3.0.0|cf157f4ac03e538cad7bcd39d4fe040b27630ff4bea9e62d9da23202cf6d8070aa7e0ba66bf6804038e8f3903d67a10a8418ab1d12475c88095257df4f8c1d2e"
  "d3-selection|3.0.0|7e64d159b34c9ac996abac4957c0f5f54fe0c3f6f0ac77cd5f1ac837e1df6609f3a931e9f633a628c86c4d48d73899d939d658f50dbccb8c9e6cacea0ca97195"
)

# Sets OUT to the folder of the unpacked, verified tarball NAME-VERSION.
function(_auscult_fetch_npm name version sha512 out)
  set(dir "${CMAKE_BINARY_DIR}/_npm")
  set(tgz "${dir}/${name}-${version}.tgz")
  file(MAKE_DIRECTORY "${dir}")
  set(have "")
  if(EXISTS "${tgz}")
    file(SHA512 "${tgz}" have)
  endif()
  if(NOT have STREQUAL sha512 AND AUSCULT_JS_TARBALL_DIR AND EXISTS "${AUSCULT_JS_TARBALL_DIR}/${name}-${version}.tgz")
    file(COPY_FILE "${AUSCULT_JS_TARBALL_DIR}/${name}-${version}.tgz" "${tgz}")
    file(SHA512 "${tgz}" have)
  endif()
  if(NOT have STREQUAL sha512)
    file(DOWNLOAD "${AUSCULT_NPM_REGISTRY}/${name}/-/${name}-${version}.tgz" "${tgz}"
         TIMEOUT 120 INACTIVITY_TIMEOUT 30 STATUS status)
    list(GET status 0 code)
    if(NOT code EQUAL 0)
      file(REMOVE "${tgz}")
      message(FATAL_ERROR "Cannot fetch ${name}@${version} from ${AUSCULT_NPM_REGISTRY}: ${status}.\n"
              "Put ${name}-${version}.tgz ('npm pack ${name}@${version}') in a folder named by "
              "-DAUSCULT_JS_TARBALL_DIR, or configure with -DAUSCULT_GRAPH_HTML=OFF.")
    endif()
    file(SHA512 "${tgz}" have)
  endif()
  if(NOT have STREQUAL sha512)
    file(REMOVE "${tgz}")
    message(FATAL_ERROR "${name}@${version}: the tarball's SHA-512 is ${have}, not the pinned ${sha512}; "
            "not vendoring it.")
  endif()
  set(unpacked "${dir}/${name}-${version}")
  file(REMOVE_RECURSE "${unpacked}")
  file(ARCHIVE_EXTRACT INPUT "${tgz}" DESTINATION "${unpacked}"
       PATTERNS "package/dist/${name}.min.js" "package/LICENSE")
  set(${out} "${unpacked}/package" PARENT_SCOPE)
endfunction()

# auscult_graph_html(TARGET TEMPLATE): compiles the page into TARGET and defines AUSCULT_GRAPH_HTML
# (1 or 0) for TARGET's sources. TEMPLATE holds @AUSCULT_D3@ where the library goes.
function(auscult_graph_html target template)
  if(NOT AUSCULT_GRAPH_HTML)
    target_compile_definitions(${target} PRIVATE AUSCULT_GRAPH_HTML=0)
    return()
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${template}")

  set(names "")
  set(code "")
  set(licence "")
  foreach(entry IN LISTS _auscult_d3_packages)
    string(REPLACE "|" ";" fields "${entry}")
    list(GET fields 0 name)
    list(GET fields 1 version)
    list(GET fields 2 sha512)
    _auscult_fetch_npm(${name} ${version} ${sha512} package)
    file(READ "${package}/dist/${name}.min.js" js)
    file(READ "${package}/LICENSE" licence_text)
    string(APPEND code "${js}\n")
    list(APPEND names "${name} ${version}")
    # The five carry the same ISC notice; should one ever differ, the page keeps both.
    string(FIND "${licence}" "${licence_text}" seen)
    if(seen EQUAL -1)
      string(APPEND licence "${licence_text}")
    endif()
  endforeach()
  list(JOIN names ", " names)

  # Inside <script>, "</script" would end the element and "<!--" changes how the end is found;
  # "*/" would end the licence comment early.
  string(TOLOWER "${code}" lower)
  foreach(bad "</script" "<!--")
    string(FIND "${lower}" "${bad}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "The vendored d3 holds '${bad}': it cannot be inlined in a <script> element.")
    endif()
  endforeach()
  string(FIND "${licence}" "*/" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "The d3 licence text holds '*/': it cannot sit in a JavaScript comment.")
  endif()

  file(READ "${template}" page)
  string(FIND "${page}" "@AUSCULT_D3@" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${template} has no @AUSCULT_D3@")
  endif()
  # string(REPLACE), not configure_file: the minified code may hold @...@ or ${...} of its own.
  string(REPLACE "@AUSCULT_D3@" "/* ${names}, from the npm registry, under this licence:\n\n${licence}*/\n${code}"
         page "${page}")
  set(assembled "${CMAKE_CURRENT_BINARY_DIR}/graph_page.html")
  file(WRITE "${assembled}" "${page}")
  file(SIZE "${assembled}" size)

  # A byte array: a string literal would need a delimiter the code cannot hold, and compilers cap
  # the length of one literal.
  file(READ "${assembled}" hex HEX)
  # Character literals rather than numbers: bytes above 0x7f would be narrowing conversions.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(REPEAT "'.x..'," 20 line)  # CMake's regular expressions have no {n}
  string(REGEX REPLACE "(${line})" "\\1\n" bytes "${bytes}")
  set(source "${CMAKE_CURRENT_BINARY_DIR}/graph_page.cc")
  get_filename_component(template_name "${template}" NAME)
  file(WRITE "${source}.new"
       "// Generated by cmake/VendorD3.cmake from ${template_name} and ${names}. Do not edit.\n"
       "#include <cstddef>\n\n"
       "namespace auscult::cli {\n"
       "extern const char kGraphPage[];\n"
       "extern const std::size_t kGraphPageSize;\n"
       "const char kGraphPage[] = {\n${bytes}};\n"
       "const std::size_t kGraphPageSize = ${size};\n"
       "}  // namespace auscult::cli\n")
  # Rewritten only when it changed, so that a reconfigure does not rebuild the CLI.
  file(COPY_FILE "${source}.new" "${source}" ONLY_IF_DIFFERENT)
  target_sources(${target} PRIVATE "${source}")
  target_compile_definitions(${target} PRIVATE AUSCULT_GRAPH_HTML=1)
  math(EXPR kib "${size} / 1024")
  message(STATUS "HTML graph page: ${kib} KiB with ${names}")
endfunction()
