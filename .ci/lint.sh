#!/usr/bin/env bash
# Lint and type checks; the configuration lives in pyproject.toml.
#
#   bash .ci/lint.sh        (the tools come with: pip install -e ".[lint]")
#
#   ruff check .            pyflakes, import order, statement/syntax errors, bugbear
#   mypy                    the fastmask package, read through its stubs
#   cython-lint             fastmask/*.pyx and *.pxd
# All three run even when one fails; the exit code is non-zero if any found something.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
run() {  # $1: label, rest: command
    local label="$1"; shift
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "lint: $1 not found (pip install -e '.[lint]')"; status=1; return
    fi
    echo "== lint: $label"
    "$@" || status=1
}
run ruff ruff check .
run mypy mypy
# shellcheck disable=SC2046
run cython-lint cython-lint $(git ls-files 'fastmask/*.pyx' 'fastmask/*.pxd' 'fastmask/**/*.pyx' \
    'fastmask/**/*.pxd' 2>/dev/null | sort -u)
if [ "$status" -eq 0 ]; then echo "lint: clean"; else echo "lint: findings above"; fi
exit "$status"
