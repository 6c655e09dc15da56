"""Builds and runs the plain-C test program of the C core (csrc/tests/test_fastmask.c).

The C core is tested on its own, without Python: once under AddressSanitizer and
UndefinedBehaviorSanitizer with every warning an error, once optimised (-O2) without
sanitizers, which is closer to how the extension is built. Skipped only when no C compiler is
available.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
# every C file of the core, so that splitting or adding a file needs no change here
SOURCES = [*sorted(CSRC.glob("*.c")), CSRC / "tests" / "test_fastmask.c"]
WARNINGS = ["-std=c11", "-Wall", "-Wextra", "-Werror"]
SANITIZE = [
    "-O1",
    "-g",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=undefined",
    "-fno-omit-frame-pointer",
]


def _compiler():
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


CC = _compiler()
pytestmark = pytest.mark.skipif(CC is None, reason="no C compiler found")


def _build_and_run(tmp_path: Path, name: str, flags):
    exe = tmp_path / name
    cmd = [CC, *WARNINGS, *flags, *map(str, SOURCES), "-o", str(exe), "-lm"]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, f"build failed: {' '.join(cmd)}\n{build.stdout}\n{build.stderr}"
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    run = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=600)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    assert run.returncode == 0, f"{name} failed ({run.returncode}):\n{run.stdout}\n{run.stderr}"
    assert " 0 failed" in run.stdout
    return run.stdout


def test_c_core_sanitized(tmp_path):
    _build_and_run(tmp_path, "test_fastmask_asan", SANITIZE)


def test_c_core_optimized(tmp_path):
    _build_and_run(tmp_path, "test_fastmask_o2", ["-O2"])
