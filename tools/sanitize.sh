#!/usr/bin/env bash
# Builds tapegrad._C with AddressSanitizer + UBSan in its own build dir and runs the suite (and fuzz programs) under it.
#
#   tools/sanitize.sh [--fuzz N] [--fuzz-start S] [--keep-going] [--no-build] [--no-suite] [pytest args...]
#
# The sanitized module goes into a staged copy of the package ($SANITIZE_BUILD/site/tapegrad), so the
# in-tree build and any installed tapegrad are left alone. Every sanitizer report is written to
# $SANITIZE_BUILD/reports/<tool>.<pid>, from the test process and from every child it starts (fuzz
# workers, subprocess tests): the script fails if any report appears, whatever the tests said.
# --keep-going lets every process continue past a report (halt_on_error=0), to list them all in one run;
# by default the first report stops its process, so a crash also fails the test that caused it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${SANITIZE_BUILD:-$ROOT/build/sanitize}
SANITIZERS=${TAPEGRAD_SANITIZE:-address,undefined}
FUZZ=0 FUZZ_START=20000 HALT=1 DO_BUILD=1 DO_SUITE=1
PYTEST_ARGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --fuzz) FUZZ=$2; shift 2 ;;
    --fuzz-start) FUZZ_START=$2; shift 2 ;;
    --keep-going) HALT=0; shift ;;
    --no-build) DO_BUILD=0; shift ;;
    --no-suite) DO_SUITE=0; shift ;;
    *) PYTEST_ARGS+=("$1"); shift ;;
  esac
done

if [ "$DO_BUILD" = 1 ]; then
  # IPO off: pybind11 would add -flto, which the sanitizers do not need and which makes links take minutes.
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DTAPEGRAD_CUDA=OFF -DTAPEGRAD_SANITIZE="$SANITIZERS" \
    -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=OFF \
    -Dpybind11_DIR="$(python -c 'import pybind11; print(pybind11.get_cmake_dir())')" >/dev/null
  cmake --build "$BUILD" -j "${JOBS:-2}"
fi
SO=$(ls "$BUILD"/_C.*.so)
rm -rf "$BUILD/site" "$BUILD/reports"
mkdir -p "$BUILD/site" "$BUILD/reports"
cp -r python/tapegrad "$BUILD/site/"
find "$BUILD/site" -name '_C.*.so' -delete  # a copied in-tree build must not shadow the sanitized one
ln -s "$SO" "$BUILD/site/tapegrad/"

# Python, numpy and torch are not instrumented, so the ASan runtime must be loaded before them all
# (LD_PRELOAD; the module's own DT_NEEDED would come too late). libstdc++ is preloaded with it: the
# interpreter does not link it, and ASan's __cxa_throw interceptor, set up at start, needs it there,
# else the first C++ exception (torch's or ours) dies in a CHECK. Leak checking stays off: the
# interpreter frees little at exit by design. allocator_may_return_null: tests ask for absurd sizes
# and expect tapegrad's out-of-memory RuntimeError, not an ASan abort. handle_segv=0: a segfault must
# end the process by its signal, which the fuzz harness and the crash tests detect (one sends SIGSEGV
# on purpose); faulthandler still prints where. Both runtimes write to one file per process.
CXX_BIN=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
PRELOAD="$("${CXX_BIN:-c++}" -print-file-name=libasan.so) $("${CXX_BIN:-c++}" -print-file-name=libstdc++.so)"
export LD_PRELOAD="$PRELOAD${LD_PRELOAD:+ $LD_PRELOAD}"
LOG=$BUILD/reports/sanitizer
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:handle_segv=0:halt_on_error=$HALT:log_path=$LOG${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=$HALT:log_path=$LOG${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# pymalloc would hide Python objects' lifetimes from ASan: with malloc a Py_DECREF too many in the
# bindings becomes a use-after-free report instead of silently reused memory.
export PYTHONMALLOC=malloc
export PYTHONPATH="$BUILD/site${PYTHONPATH:+:$PYTHONPATH}"

status=0
if [ "$DO_SUITE" = 1 ]; then
  start=$SECONDS
  python -m pytest -q -p no:cacheprovider "${PYTEST_ARGS[@]}" || status=$?
  echo "sanitize.sh: suite exit $status in $((SECONDS - start))s"
fi
if [ "$FUZZ" -gt 0 ]; then
  start=$SECONDS
  fstatus=0
  # Here only crashes and hangs fail (a sanitizer report kills its worker, which is a crash): wrong
  # results are the fuzzer's own ratchet's business, and `python -m tests.fuzz` fails on any.
  # -c, not a script on stdin: the fuzzer's forkserver workers re-import the parent's __main__ by
  # path, and "-" (stdin) has none, so they would die before they start.
  python -c '
import sys
from tests.fuzz.__main__ import run_range
start, count, jobs = map(int, sys.argv[1:])
rep = run_range(range(start, start + count), jobs=jobs, budget=60)
print(rep.summary(max_groups=5))
sys.exit(1 if rep.crash_count() else 0)
' "$FUZZ_START" "$FUZZ" "${JOBS:-2}" || fstatus=$?
  echo "sanitize.sh: fuzz of $FUZZ programs from seed $FUZZ_START exit $fstatus in $((SECONDS - start))s"
  [ "$fstatus" = 0 ] || status=$fstatus
fi

# A refused huge allocation (allocator_may_return_null) leaves a warning line, which is expected;
# anything else in a log is a report.
WARNING='WARNING: AddressSanitizer failed to allocate 0x[0-9a-f]* bytes$'
refused=$(cat "$BUILD"/reports/* 2>/dev/null | grep -c "$WARNING" || true)
[ "$refused" = 0 ] || echo "sanitize.sh: $refused huge allocations refused as expected"
bad=0
for f in "$BUILD"/reports/*; do
  [ -e "$f" ] || continue
  if grep -qv "$WARNING" "$f"; then
    echo "=== $f"; grep -v "$WARNING" "$f"; bad=$((bad + 1))
  fi
done
if [ "$bad" != 0 ]; then
  echo "sanitize.sh: sanitizer reports from $bad process(es), in $BUILD/reports"
  exit 1
fi
echo "sanitize.sh: no sanitizer reports"
exit "$status"
