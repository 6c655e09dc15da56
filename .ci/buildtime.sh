#!/usr/bin/env bash
# Times a source install and a wheel build of fastmask from a clean copy of a source tree.
#
#   bash .ci/buildtime.sh [SRC_DIR] [ROUNDS]
#
# SRC_DIR defaults to this checkout's HEAD (exported with `git archive`, so no build/ directory
# or stale objects are reused). Each round copies the tree afresh and runs
#   pip install . --no-deps --target DIR     (isolated build env, as a user's install)
#   python -m build --wheel                   (isolated build env)
# under /usr/bin/time -v and prints user+sys CPU seconds (less sensitive to a busy machine than
# wall time) and wall seconds. Run it for two trees back to back to compare them.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="${1:-}"
ROUNDS="${2:-1}"
PY="${PYTHON:-python}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fm-buildtime.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

fresh_copy() {  # $1: destination
    mkdir -p "$1"
    if [ -z "$SRC" ]; then
        git -C "$ROOT" archive --format=tar HEAD | tar -x -C "$1"
    else
        (cd "$SRC" && tar --exclude=build --exclude='*.so' --exclude='*.egg-info' \
            --exclude=fastmask/_core.c --exclude='.venv*' --exclude=dist -cf - .) | tar -x -C "$1"
    fi
}

timed() {  # $1: label, rest: command (run in the current directory)
    local label="$1"; shift
    /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>&1 || {
        cat "$WORK/out.txt"; echo "$label failed" >&2; exit 1; }
    awk -v label="$label" -F': ' '
        /User time/ {u=$2} /System time/ {s=$2}
        /Elapsed \(wall clock\)/ {n=split($2, p, ":"); w=0; for (i=1; i<=n; i++) w=w*60+p[i]}
        END {printf "%-14s user+sys %6.1f s (user %.1f)   wall %6.1f s\n", label, u+s, u, w}' \
        "$WORK/time.txt"
}

for round in $(seq 1 "$ROUNDS"); do
    rm -rf "$WORK/a" "$WORK/b" "$WORK/target" "$WORK/dist"
    fresh_copy "$WORK/a"
    fresh_copy "$WORK/b"
    (cd "$WORK/a" && timed "pip install ." "$PY" -m pip install . --no-deps -q \
        --target "$WORK/target")
    (cd "$WORK/b" && timed "build --wheel" "$PY" -m build --wheel --outdir "$WORK/dist")
done
