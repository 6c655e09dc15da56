#!/usr/bin/env bash
# Builds the wheel with every CPython the machine has (pyenv's, or the ones named), installs it
# with numpy in a fresh environment and runs the NumPy-only tests there.
#
#   bash .ci/matrix.sh                   every CPython 3.9+ under $PYENV_ROOT/versions
#   bash .ci/matrix.sh 3.9 3.13          only these
#   MATRIX_BUILD_ONLY=1 bash .ci/matrix.sh   build and import only (faster)
#
# Each interpreter gets its numpy, Cython and setuptools from the package index; an interpreter
# that cannot get them is reported and fails the run (nothing is skipped silently).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYENV_ROOT="${PYENV_ROOT:-/root/.pyenv}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fm-matrix.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# tests that need only numpy, pytest and hypothesis
TESTS=(tests/test_masking.py tests/test_reproducibility.py tests/test_errors.py
       tests/test_truncation.py tests/test_reference_kernel.py)

pythons=()
if [ "$#" -gt 0 ]; then
    for v in "$@"; do pythons+=("$(ls -d "$PYENV_ROOT"/versions/"$v"* | sort -V | tail -n 1)/bin/python3"); done
else
    for d in $(ls -d "$PYENV_ROOT"/versions/3.* 2>/dev/null | sort -V); do
        v="$(basename "$d")"; minor="${v#3.}"; minor="${minor%%.*}"
        [ "$minor" -ge 9 ] && pythons+=("$d/bin/python3")
    done
fi
[ "${#pythons[@]}" -gt 0 ] || { echo "matrix: no CPython 3.9+ found under $PYENV_ROOT"; exit 1; }

mkdir -p "$WORK/src"
git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 tar -cf -) | tar -x -C "$WORK/src"
# the tests run from a copy without the package sources, so the installed wheel is imported
mkdir -p "$WORK/run" && cp -r "$WORK/src/tests" "$WORK/src/pyproject.toml" "$WORK/run/"
failed=()
for py in "${pythons[@]}"; do
    ver="$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
    t0=$SECONDS
    venv="$WORK/venv-$ver"
    log="$WORK/$ver.log"
    ok=1
    {
        "$py" -m venv "$venv" &&
        "$venv/bin/python" -m pip install -q --upgrade pip &&
        "$venv/bin/python" -m pip wheel -q --no-deps -w "$WORK/wheels-$ver" "$WORK/src" &&
        "$venv/bin/python" -m pip install -q numpy "$WORK"/wheels-"$ver"/*.whl &&
        (cd "$WORK" && "$venv/bin/python" -c \
            "import fastmask, sys; m = fastmask.Masker(100, 4, special_ids=[0, 1, 2, 3, 4]);
out = m([[1, 5, 6, 7, 2]]); assert out['input_ids'].shape == (1, 5), out
print('fastmask', fastmask.__version__, 'on', sys.version.split()[0])")
    } >"$log" 2>&1 || ok=0
    if [ "$ok" = 1 ] && [ -z "${MATRIX_BUILD_ONLY:-}" ]; then
        { "$venv/bin/python" -m pip install -q pytest &&
          (cd "$WORK/run" && "$venv/bin/python" -m pytest -q -p no:cacheprovider \
              "${TESTS[@]}"); } >>"$log" 2>&1 || ok=0
    fi
    if [ "$ok" = 1 ]; then
        echo "matrix: CPython $ver ok ($((SECONDS - t0)) s): $(grep -E '^fastmask |passed|failed' "$log" | tr '\n' ' ')"
    else
        echo "matrix: CPython $ver FAILED ($((SECONDS - t0)) s)"; tail -n 30 "$log"; failed+=("$ver")
    fi
    rm -rf "$venv"
done
[ "${#failed[@]}" -eq 0 ] || { echo "matrix: failed on ${failed[*]}"; exit 1; }
echo "matrix: all ${#pythons[@]} interpreters passed"
