"""Builds the libFuzzer harnesses of the C core and replays their seed corpora.

The harnesses (csrc/tests/fuzz_*.c) check every call against the documented contract, so a
replay of the committed corpus (csrc/tests/corpus/<harness>) under AddressSanitizer and
UndefinedBehaviorSanitizer is a regression test of its own: each input is a case that once
reached new code. Fuzzing itself (tools/fuzz.sh) is not run here. Skipped only when no clang
with libFuzzer is installed (tools/fuzz.sh installs it from apt).

The defect once found by the fuzzer (the word walk storing past the picked positions; its
reproducer is csrc/tests/crashes/repro_word_walk_overflow.c, with the crash input beside it) is
fixed: both are replayed here as regression tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
CORE = sorted(CSRC.glob("*.c"))  # whatever the core's file layout
HARNESSES = ["fastmask", "pad", "rng", "rows"]
COMMON = ["-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror", "-I", str(CSRC)]
SANITIZE = ["-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer"]


def _clang():
    for name in (os.environ.get("CC"), "clang", "clang-14", "clang-15", "clang-16"):
        if name and shutil.which(name):
            version = subprocess.run(
                [name, "--version"], check=False, capture_output=True, text=True
            )
            if "clang" in version.stdout.lower():
                return name
    return None


CLANG = _clang()


def _run(cmd, **kwargs):
    return subprocess.run(
        [str(c) for c in cmd], check=False, capture_output=True, text=True, **kwargs
    )


def _has_libfuzzer(tmp: Path) -> bool:
    src = tmp / "probe.c"
    src.write_text(
        "#include <stddef.h>\n#include <stdint.h>\n"
        "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n"
        "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)"
        " { (void)d; (void)n; return 0; }\n"
    )
    return _run([CLANG, "-fsanitize=fuzzer", src, "-o", tmp / "probe"]).returncode == 0


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    if CLANG is None:
        pytest.skip("no clang installed (tools/fuzz.sh installs it)")
    tmp = tmp_path_factory.mktemp("fuzz")
    if not _has_libfuzzer(tmp):
        pytest.skip("clang without libFuzzer")
    # the core once, instrumented for the fuzzer and the sanitizers; linked into every program
    for src in CORE:
        cmd = [CLANG, *COMMON, *SANITIZE, "-fsanitize=fuzzer-no-link,address,undefined"]
        cmd += ["-c", src, "-o", tmp / f"{src.stem}.o"]
        build = _run(cmd)
        assert build.returncode == 0, f"build failed: {cmd}\n{build.stderr}"
    return tmp


def _link(build_dir: Path, name: str, src: Path, sanitize: str, extra=()) -> Path:
    exe = build_dir / name
    objects = [build_dir / f"{c.stem}.o" for c in CORE]
    cmd = [CLANG, *COMMON, *SANITIZE, f"-fsanitize={sanitize}", *extra, *objects, src]
    build = _run([*cmd, "-lm", "-o", exe])
    assert build.returncode == 0, f"build failed: {cmd}\n{build.stderr}"
    return exe


def _harness(build_dir: Path, harness: str) -> Path:
    src = CSRC / "tests" / f"fuzz_{harness}.c"
    return _link(build_dir, f"fuzz_{harness}", src, "fuzzer,address,undefined")


def _env():
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


@pytest.mark.parametrize("harness", HARNESSES)
def test_seed_corpus_replays_clean(build_dir, harness):
    corpus = CSRC / "tests" / "corpus" / harness
    inputs = [p for p in corpus.glob("*") if p.is_file()]
    assert len(inputs) >= 20, f"seed corpus {corpus} is missing or nearly empty"
    exe = _harness(build_dir, harness)
    run = _run([exe, "-runs=0", corpus], env=_env(), timeout=600)
    assert run.returncode == 0, (
        f"fuzz_{harness} failed on its corpus:\n{run.stderr[-4000:]}"
    )
    # libFuzzer reports the corpus read and run ("INITED") before it stops
    assert "INITED" in run.stderr


def test_word_walk_overflow_reproducer(build_dir):
    src = CSRC / "tests" / "crashes" / "repro_word_walk_overflow.c"
    exe = _link(build_dir, "repro_word_walk_overflow", src, "address,undefined")
    run = _run([exe], env=_env(), timeout=60)
    assert run.returncode == 0, run.stdout


def test_word_walk_overflow_crash_input(build_dir):
    exe = _harness(build_dir, "fastmask")
    crash = CSRC / "tests" / "crashes" / "fuzz_fastmask-word-walk-overflow"
    run = _run([exe, "-runs=1", crash], env=_env(), timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
