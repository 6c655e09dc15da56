#!/usr/bin/env bash
# Builds fastmask's distributions as a packager would and checks what a user receives.
#
#   bash .ci/dist.sh            (uses `python` on PATH: it needs build and twine)
#
# 1. `python -m build`: an sdist, then the wheel built from that sdist (not from the checkout)
# 2. `twine check` on both
# 3. contents: the sdist holds what the build needs and no build output; the wheel holds the
#    package, the compiled extension, py.typed and the stubs, and no C sources, tests or leftovers
# 4. a fresh virtual environment with only numpy and the wheel, run from outside the checkout:
#    `fastmask --version`, `fastmask demo --help`, `fastmask demo --quick`, and an import of every
#    public module (a missing optional dependency must give the install hint)
# Output goes to $FASTMASK_DIST_DIR (default: a temporary directory, removed afterwards).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-python}"
KEEP="${FASTMASK_DIST_DIR:-}"
WORK="${KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/fm-dist.XXXXXX")}"
[ -n "$KEEP" ] || trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK"
rm -rf "$WORK/dist" "$WORK/venv" "$WORK/src"
t0=$SECONDS

echo "== dist: building the sdist and, from it, the wheel"
# build from a clean export of the tracked files, so local build output cannot leak in
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    mkdir -p "$WORK/src"
    git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 tar -cf -) | tar -x -C "$WORK/src"
    SRC="$WORK/src"
else
    SRC="$ROOT"
fi
"$PY" -m build --outdir "$WORK/dist" "$SRC" >"$WORK/build.log" 2>&1 || {
    tail -n 60 "$WORK/build.log"; echo "dist: build failed"; exit 1; }
SDIST="$(ls "$WORK"/dist/*.tar.gz)"
WHEEL="$(ls "$WORK"/dist/*.whl)"
ls -l "$WORK/dist"

echo "== dist: twine check"
"$PY" -m twine check --strict "$SDIST" "$WHEEL"

echo "== dist: contents"
"$PY" "$ROOT/.ci/dist_check.py" contents "$SRC" "$SDIST" "$WHEEL"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$SRC/fastmask/__init__.py")"

echo "== dist: the wheel in a fresh environment with only numpy"
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q numpy "$WHEEL"
"$WORK/venv/bin/python" -m pip list --format=freeze
cd "$WORK"  # away from the checkout: the installed package, not the source tree, is imported
FM="$WORK/venv/bin/fastmask"
got="$("$FM" --version)"
[ "$got" = "fastmask $VERSION" ] || { echo "dist: fastmask --version said '$got'"; exit 1; }
echo "$got"
"$FM" demo --help >/dev/null
FASTMASK_CACHE_DIR="$WORK/cache" "$FM" demo --quick >"$WORK/demo.log" 2>&1 || {
    cat "$WORK/demo.log"; echo "dist: fastmask demo --quick failed"; exit 1; }
tail -n 3 "$WORK/demo.log"
"$WORK/venv/bin/python" "$ROOT/.ci/dist_check.py" imports "$VERSION"

echo "dist: sdist $(du -k "$SDIST" | cut -f1) KiB, wheel $(du -k "$WHEEL" | cut -f1) KiB," \
     "all checks passed in $((SECONDS - t0)) s"
