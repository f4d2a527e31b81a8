# The one way this tree is configured and built, shared by deploy/quickstart.sh and tests/run.sh so
# that running one after the other reuses the build instead of reconfiguring it.
# auscult_build BUILD_DIR [cmake --build arguments...]
auscult_build() {
  local build=$1
  shift
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUSCULT_WERROR=ON >/dev/null
  cmake --build "$build" "$@"
}
