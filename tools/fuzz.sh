#!/usr/bin/env bash
# libFuzzer campaign of the C core (docs/reliability.md).
#
#   tools/fuzz.sh [ci]            bounded slice: every harness for its share of FUZZ_SECONDS
#                                 (default 60 s in all), from the seed corpus in
#                                 csrc/tests/corpus; exits 1 on any finding. For CI.
#   tools/fuzz.sh long            long campaign: FUZZ_LONG_SECONDS per harness (default 1200),
#                                 one harness at a time, each a single in-process libFuzzer job
#                                 (the same as -jobs=1) under nice, growing the corpus kept in
#                                 $FUZZ_WORK/corpus; prints executions and findings.
#   tools/fuzz.sh build           only builds the harnesses into $FUZZ_WORK/bin.
#   tools/fuzz.sh repro FILE...   runs one harness (named by FUZZ_HARNESS, default fastmask)
#                                 on saved inputs, e.g. csrc/tests/crashes/*.
#
# Environment: FUZZ_WORK (default ${TMPDIR:-/tmp}/fastmask-fuzz), FUZZ_SECONDS, FUZZ_LONG_SECONDS,
# FUZZ_SECONDS_<harness> (long mode: that harness's time, e.g. FUZZ_SECONDS_fastmask=1800),
# FUZZ_HARNESSES (default "fastmask pad rng rows"), CC (a clang; installed from apt when missing).
# Every .c file of csrc/ is compiled in, whatever the C core's file layout.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=${1:-ci}
[[ $# -gt 0 ]] && shift

WORK=${FUZZ_WORK:-${TMPDIR:-/tmp}/fastmask-fuzz}
HARNESSES=${FUZZ_HARNESSES:-fastmask pad rng rows}
mkdir -p "$WORK/bin" "$WORK/logs" "$WORK/artifacts"

find_clang() {
    local c
    for c in ${CC:-} clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
        if command -v "$c" >/dev/null 2>&1 && "$c" --version 2>/dev/null | grep -qi clang; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

CLANG=$(find_clang || true)
if [[ -z $CLANG ]]; then
    echo "fuzz.sh: no clang found; installing clang and llvm from apt" >&2
    if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq clang llvm >/dev/null
    CLANG=$(find_clang) || { echo "fuzz.sh: clang still not found" >&2; exit 2; }
fi

# every C file of the core (a glob, so that splitting csrc/fastmask.c needs no change here)
shopt -s nullglob
CORE=("$ROOT"/csrc/*.c)
shopt -u nullglob
[[ ${#CORE[@]} -gt 0 ]] || { echo "fuzz.sh: no csrc/*.c" >&2; exit 2; }

FLAGS=(-std=c11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I "$ROOT/csrc")

build() {
    local h
    for h in $HARNESSES; do
        "$CLANG" "${FLAGS[@]}" "${CORE[@]}" "$ROOT/csrc/tests/fuzz_$h.c" -lm -o "$WORK/bin/fuzz_$h"
    done
    echo "built with $("$CLANG" --version | head -1): $HARNESSES -> $WORK/bin"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# run_one NAME SECONDS CORPUS_DIR [extra libFuzzer flags]; sets EXECS and STATUS
run_one() {
    local h=$1 secs=$2 corpus=$3
    shift 3
    local log="$WORK/logs/$h.log"
    local seeds=()
    [[ -d $ROOT/csrc/tests/corpus/$h ]] && seeds=("$ROOT/csrc/tests/corpus/$h")
    mkdir -p "$corpus" "$WORK/artifacts/$h"
    set +e
    nice -n 10 "$WORK/bin/fuzz_$h" "$corpus" "${seeds[@]}" -max_total_time="$secs" \
        -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 \
        -error_exitcode=77 -timeout_exitcode=78 \
        -artifact_prefix="$WORK/artifacts/$h/" "$@" >"$log" 2>&1
    STATUS=$?
    set -e
    EXECS=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    EXECS=${EXECS:-0}
}

report_failure() {
    local h=$1
    echo "FINDING in fuzz_$h (status $STATUS); log $WORK/logs/$h.log, inputs:" >&2
    ls -1 "$WORK/artifacts/$h/" >&2 || true
    grep -m1 -A3 -E "check failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error" \
        "$WORK/logs/$h.log" >&2 || tail -20 "$WORK/logs/$h.log" >&2
}

campaign() { # campaign SECONDS_PER_HARNESS CORPUS_ROOT
    local per=$1 croot=$2 total=0 failed=0 h
    for h in $HARNESSES; do
        local var="FUZZ_SECONDS_$h" secs=$per
        [[ $MODE == long && -n ${!var:-} ]] && secs=${!var}
        run_one "$h" "$secs" "$croot/$h"
        printf '%-14s %12s executions in %5s s  status %s\n' "fuzz_$h" "$EXECS" "$secs" "$STATUS"
        total=$((total + EXECS))
        if [[ $STATUS -ne 0 ]]; then
            report_failure "$h"
            failed=1
        fi
    done
    printf '%-14s %12s executions\n' "total" "$total"
    return $failed
}

case $MODE in
build)
    build
    ;;
ci)
    build
    n=$(wc -w <<<"$HARNESSES")
    per=$(( ${FUZZ_SECONDS:-60} / n ))
    [[ $per -ge 1 ]] || per=1
    tmp=$(mktemp -d "$WORK/ci.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    campaign "$per" "$tmp" || { echo "fuzz.sh: the CI slice found a problem" >&2; exit 1; }
    echo "fuzz.sh: CI slice clean"
    ;;
long)
    build
    per=${FUZZ_LONG_SECONDS:-1200}
    set +e
    campaign "$per" "$WORK/corpus"
    rc=$?
    set -e
    echo "corpus: $WORK/corpus (coverage: tools/coverage.sh $WORK/corpus)"
    exit $rc
    ;;
repro)
    build
    h=${FUZZ_HARNESS:-fastmask}
    "$WORK/bin/fuzz_$h" -runs=1 "$@"
    ;;
*)
    echo "usage: tools/fuzz.sh [ci|long|build|repro FILE...]" >&2
    exit 2
    ;;
esac
