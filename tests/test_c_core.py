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

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastmask import _core, words

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


def _build_and_run(tmp_path: Path, name: str, flags, compiler=None):
    exe = tmp_path / name
    cmd = [compiler or CC, *WARNINGS, *flags, *map(str, SOURCES), "-o", str(exe), "-lm"]
    build = subprocess.run(cmd, check=False, capture_output=True, text=True)
    assert build.returncode == 0, f"build failed: {' '.join(cmd)}\n{build.stdout}\n{build.stderr}"
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    run = subprocess.run([str(exe)], check=False, capture_output=True, text=True, env=env, timeout=600)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    assert run.returncode == 0, f"{name} failed ({run.returncode}):\n{run.stdout}\n{run.stderr}"
    assert " 0 failed" in run.stdout
    return run.stdout


def test_c_core_sanitized(tmp_path):
    _build_and_run(tmp_path, "test_fastmask_asan", SANITIZE)


def test_c_core_optimized(tmp_path):
    _build_and_run(tmp_path, "test_fastmask_o2", ["-O2"])


def test_c_core_sanitized_clang(tmp_path):
    """The sanitized build again with clang: its UBSan also reports arithmetic on a NULL pointer
    (NULL + k), which GCC's lets pass; the word-start functions once formed such pointers for
    empty rows. CI installs clang before the tests."""
    clang = shutil.which("clang")
    if clang is None:
        pytest.skip("no clang installed (tools/fuzz.sh installs it)")
    _build_and_run(tmp_path, "test_fastmask_clang", SANITIZE, compiler=clang)


# ---- the word-start rules of csrc/words.c against fastmask.words ------------------------------
# fastmask.words states each rule in NumPy; the C core applies it without the GIL. Both must
# give the same flags for any input (hypothesis draws rows with None/negative word ids, (0, 0)
# specials, gaps, overlaps and restarts of the offsets, and table values 0/1/2).

_word_id = st.one_of(st.none(), st.integers(-3, 6))
_span = st.tuples(st.integers(0, 12), st.integers(0, 4)).map(lambda p: (p[0], p[0] + p[1]))


def _ragged(rows):
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    return offsets


def _padded(flag_rows, width, left):
    out = np.zeros((len(flag_rows), width), dtype=np.uint8)
    for i, f in enumerate(flag_rows):
        f = np.asarray(f, dtype=np.uint8)[:width]
        start = width - len(f) if left else 0
        out[i, start:start + len(f)] = f
    return out


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.lists(_word_id, max_size=20), max_size=5), st.integers(0, 22), st.booleans())
def test_word_ids_rule_matches_words_module(rows, width, left):
    want = _padded([words.starts_from_word_ids(r) if r else [] for r in rows], width, left)
    out = np.full((len(rows), width), 9, dtype=np.uint8)
    _core.word_ids_to_starts(rows, out, left, "word_ids")
    assert np.array_equal(out, want)
    values = np.array([-1 if w is None else w for r in rows for w in r], dtype=np.int64)
    out2 = np.full((len(rows), width), 9, dtype=np.uint8)
    rc, _, _ = _core.word_starts_ragged(_core.STARTS_FROM_WORD_IDS, values, _ragged(rows), out2,
                                        left, True)
    assert rc == _core.OK and np.array_equal(out2, want)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.lists(st.one_of(st.just((0, 0)), _span), max_size=20), max_size=5),
       st.integers(0, 22), st.booleans())
def test_offsets_rule_matches_words_module(rows, width, left):
    want = _padded([words.starts_from_offsets(r) if r else [] for r in rows], width, left)
    out = np.full((len(rows), width), 9, dtype=np.uint8)
    _core.offsets_to_starts(rows, out, left, "offset_mapping")
    assert np.array_equal(out, want)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 2), min_size=1, max_size=12), st.data())
def test_table_rule_matches_words_module(table, data):
    tab = np.array(table, dtype=np.uint8)
    n_rows = data.draw(st.integers(0, 4))
    L = data.draw(st.integers(0, 15))
    ids = np.array(data.draw(st.lists(st.integers(0, len(table) - 1), min_size=n_rows * L,
                                      max_size=n_rows * L)), dtype=np.int64).reshape(n_rows, L)
    want = words.starts_from_table(ids, tab) if ids.size else np.zeros(ids.shape, np.uint8)
    out = np.full((n_rows, L), 9, dtype=np.uint8)
    offsets = np.arange(n_rows + 1, dtype=np.int64) * L
    rc, _, _ = _core.word_starts_ragged(_core.STARTS_FROM_TABLE, ids.reshape(-1), offsets, out,
                                        False, False, tab)
    assert rc == _core.OK and np.array_equal(out, want)


def test_table_rule_reports_ids_outside_the_table():
    out = np.zeros((1, 3), dtype=np.uint8)
    rc, row, pos = _core.word_starts_ragged(_core.STARTS_FROM_TABLE,
                                            np.array([0, 5, 1], dtype=np.int64),
                                            np.array([0, 3], dtype=np.int64), out, False, False,
                                            np.array([1, 0, 2], dtype=np.uint8))
    assert (rc, row, pos) == (_core.ERR_ID_RANGE, 0, 1)


def test_bad_span_beyond_the_width_is_reported():
    out = np.zeros((1, 2), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"offset_mapping\[0\]\[3\] = \(5, 4\)"):
        _core.offsets_to_starts([[(0, 1), (1, 2), (2, 3), (5, 4)]], out, False, "offset_mapping")


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("left", [False, True])
def test_fill_rows_pads_through_the_core(dtype, left):
    rows = [[5, 6, 7], [], [8, 9, 10, 11, 12]]
    out = np.full((3, 4), 99, dtype=dtype)
    kept = _core.fill_rows(rows, out, left, 0, 50, 3, "input_ids")
    assert kept.dtype == np.int64 and kept.tolist() == [3, 0, 4]
    want = np.array([[3, 5, 6, 7], [3, 3, 3, 3], [8, 9, 10, 11]] if left else
                    [[5, 6, 7, 3], [3, 3, 3, 3], [8, 9, 10, 11]], dtype=dtype)
    assert np.array_equal(out, want)
    att = np.full((3, 4), 7, dtype=dtype)
    _core.attention_from_lengths(att, np.array([3, 0, 9], dtype=np.int64), left)
    assert np.array_equal(att, (want != 3).astype(dtype))
