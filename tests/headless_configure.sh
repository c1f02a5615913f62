#!/usr/bin/env bash
# The headless configuration (a machine without Qt: a GPU server, a cluster node) configures: Qt is
# hidden from find_package, configure must succeed, say in one line that the workbench and the tests
# are left out, and generate the core and the frugal command line without frugal_ui.
#   headless_configure.sh SOURCE_DIR BUILD_DIR [CMAKE_PREFIX_PATH]
set -euo pipefail
src=$1 build=$2 prefix=${3:-}
rm -rf "$build"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON \
     ${prefix:+"-DCMAKE_PREFIX_PATH=$prefix"} >"$log" 2>&1; then
  cat "$log"; echo "headless configure: cmake failed"; exit 1
fi
for line in "building without the workbench" "the tests are not built"; do
  grep -q "$line" "$log" || { cat "$log"; echo "headless configure: no line '$line'"; exit 1; }
done
targets="$(ninja -C "$build" -t targets all)"
for t in "bin/frugal:" "libfrugal_core.a:"; do
  grep -q "^$t" <<<"$targets" || { echo "headless configure: no target $t"; exit 1; }
done
if grep -q "frugal_ui\|bin/test_" <<<"$targets"; then
  echo "headless configure: the workbench or a test is in the headless build"; exit 1
fi
echo "headless configure: OK (frugal and frugal_core, no frugal_ui, no tests)"
rm -rf "$build"
