# The one way this tree is configured and built, shared by deploy/quickstart.sh and tests/run.sh so
# that running one after the other reuses the build instead of reconfiguring it.
# auscult_build BUILD_DIR [cmake --build arguments...]
auscult_build() {
  local build=$1
  shift
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUSCULT_WERROR=ON >/dev/null
  cmake --build "$build" "$@"
}

# The libFuzzer targets (docs/fuzzing.md), built by clang in a tree of their own, and nothing else:
# the main tree stays gcc's. tests/run.sh makes it beside the main one (BUILD_DIR-fuzz), where the
# main tree's fuzz tests look for it.
# auscult_fuzz_build BUILD_DIR [cmake --build arguments...]
auscult_fuzz_build() {
  local build=$1
  shift
  # -O1 -gline-tables-only, as OSS-Fuzz builds: source lines in every report, and a quarter less
  # CPU time than -O2 -g (360 s instead of 475 s for the fuzz targets, measured on 2 cores).
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" -DAUSCULT_FUZZ=ON -DAUSCULT_WERROR=ON \
    -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$build" --target fuzzers "$@"
}
