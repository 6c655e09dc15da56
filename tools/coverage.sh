#!/usr/bin/env bash
# Line coverage of the C core reached by the fuzz corpora (docs/reliability.md).
#
#   tools/coverage.sh [EXTRA_CORPUS_ROOT]
#
# Builds every harness with clang's source-based coverage (-fprofile-instr-generate
# -fcoverage-mapping, no sanitizers), runs each over its seed corpus csrc/tests/corpus/<name>
# (and EXTRA_CORPUS_ROOT/<name> when given, e.g. the long campaign's $FUZZ_WORK/corpus), merges
# the profiles and prints llvm-cov's per-file line coverage of csrc/*.c and csrc/*.h, then the
# lines no input reached. Every .c file of csrc/ is compiled in, whatever the core's layout.
# Environment: FUZZ_WORK (default ${TMPDIR:-/tmp}/fastmask-fuzz), FUZZ_HARNESSES, CC.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EXTRA=${1:-}
WORK=${FUZZ_WORK:-${TMPDIR:-/tmp}/fastmask-fuzz}/coverage
HARNESSES=${FUZZ_HARNESSES:-fastmask pad rng rows}
rm -rf "$WORK"
mkdir -p "$WORK"

CLANG=${CC:-clang}
"$CLANG" --version 2>/dev/null | grep -qi clang || {
    echo "coverage.sh: needs clang (tools/fuzz.sh installs it)" >&2
    exit 2
}
# the llvm tools of the same major version as clang
major=$("$CLANG" --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
tool() {
    if command -v "$1-$major" >/dev/null 2>&1; then echo "$1-$major"; else echo "$1"; fi
}
PROFDATA=$(tool llvm-profdata)
COV=$(tool llvm-cov)

shopt -s nullglob
CORE=("$ROOT"/csrc/*.c)
SOURCES=("$ROOT"/csrc/*.c "$ROOT"/csrc/*.h)
shopt -u nullglob

objects=()
for h in $HARNESSES; do
    bin="$WORK/fuzz_$h"
    "$CLANG" -std=c11 -g -O1 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
        -I "$ROOT/csrc" "${CORE[@]}" "$ROOT/csrc/tests/fuzz_$h.c" -lm -o "$bin"
    dirs=()
    [[ -d $ROOT/csrc/tests/corpus/$h ]] && dirs+=("$ROOT/csrc/tests/corpus/$h")
    [[ -n $EXTRA && -d $EXTRA/$h ]] && dirs+=("$EXTRA/$h")
    if [[ ${#dirs[@]} -eq 0 ]]; then
        echo "coverage.sh: no corpus for fuzz_$h" >&2
        continue
    fi
    n=$(find "${dirs[@]}" -type f | wc -l)
    # -runs=0: execute the corpus once, no fuzzing (inputs that fail a check still count)
    LLVM_PROFILE_FILE="$WORK/$h-%p.profraw" "$bin" -runs=0 -artifact_prefix="$WORK/" \
        "${dirs[@]}" >"$WORK/$h.log" 2>&1 || {
        echo "coverage.sh: fuzz_$h stopped on an input (see $WORK/$h.log); coverage up to it" >&2
    }
    echo "fuzz_$h: $n corpus inputs"
    objects+=(-object "$bin")
done
"$PROFDATA" merge -sparse "$WORK"/*.profraw -o "$WORK/all.profdata"
# the first -object is the positional binary
first=${objects[1]}
rest=("${objects[@]:2}")
echo
"$COV" report "$first" "${rest[@]}" -instr-profile="$WORK/all.profdata" \
    -show-region-summary=false -show-branch-summary=false "${SOURCES[@]}" |
    sed "s|$ROOT/||"
echo
echo "lines not reached (file:line: source):"
"$COV" show "$first" "${rest[@]}" -instr-profile="$WORK/all.profdata" -show-line-counts \
    "${SOURCES[@]}" 2>/dev/null |
    awk -v root="$ROOT/" '
        /^\/.*:$/ { file = substr($0, 1, length($0) - 1); sub(root, "", file); next }
        # "  line|  count|source": a count of 0 is a line that no input reached
        match($0, /^ *[0-9]+\| *0\|/) {
            split($0, f, "|"); ln = f[1]; gsub(/ /, "", ln)
            src = substr($0, RLENGTH + 1); sub(/^ +/, "", src)
            print "  " file ":" ln ": " src
        }'
