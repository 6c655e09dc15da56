"""Every instruction-set path of the C core gives the same bits, through the public API.

The kernels pick a path at run time (scalar, generic, AVX2, AVX-512); ``FASTMASK_SIMD`` forces
one. Each path runs in its own process on the same batches (token and word units, Bernoulli,
exact and span selection, int32 and int64, list, 2-D and ragged inputs, special masks) and its
outputs must equal the pure-Python reference's. A path this CPU cannot run is ignored by the
core: the test checks that the process then reports another path, and still gets the same bits.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastmask
from fastmask import reference

PATHS = ("scalar", "generic", "avx2", "avx512")

# One case through a Masker class (the C one in a child process, the reference here).
RUN_CASE = r"""
import numpy as np

def run_case(masker_cls, case):
    opts = dict(case["options"])
    if "word_table" in opts:  # as bytes: a list would be read as a vocabulary
        opts["word_table"] = bytes(opts["word_table"])
    kw = dict(case["call"])
    if "offsets" in kw:
        kw["offsets"] = np.array(kw["offsets"], dtype=np.int64)
        ids = np.array(case["ids"], dtype=case["values_dtype"])
    elif "lengths" in kw:
        ids = np.array(case["ids"], dtype=np.int64)
    else:
        ids = case["ids"]
    return {k: np.asarray(v).tolist() for k, v in sorted(masker_cls(**opts)(ids, **kw).items())}
"""

# The child: prints the path in use and the outputs of every case.
CHILD = RUN_CASE + r"""
import json, sys
import fastmask
from fastmask import _core
cases = json.loads(sys.stdin.read())
print(json.dumps({"path": _core.simd_path(),
                  "results": [run_case(fastmask.Masker, c) for c in cases]}))
"""


def _cases():
    rng = np.random.default_rng(7)
    V, specials = 600, [0, 1, 2, 3]
    table = rng.choice([0, 1, 1, 2], size=V).astype(int).tolist()
    lens = [0, 1, 5, 63, 64, 65, 130, 200]
    rows = [[2] + rng.integers(4, V, n).tolist() + [3] for n in lens]
    flat = [x for r in rows for x in r]
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).tolist()
    width = max(len(r) for r in rows)
    padded = [r + [0] * (width - len(r)) for r in rows]
    sm = [[1] + [int(x < 40) for x in r[1:-1]] + [1] for r in rows]
    base = dict(vocab_size=V, mask_token_id=1, special_ids=specials, seed=11,
                mlm_probability=0.3)
    opts = [
        {},
        {"dtype": "int32", "padding_side": "left"},
        {"whole_word": True, "word_table": table},
        {"whole_word": True, "word_table": table, "action": "unit", "max_predictions": 20},
        {"selection": "exact"},
        {"whole_word": True, "word_table": table, "selection": "span",
         "span_lengths": "spanbert"},
        {"random_ids": "all", "mask_replace_prob": 0.5, "random_replace_prob": 0.5},
    ]
    cases = []
    for o in opts:
        options = {**base, **o}
        cases.append({"options": options, "ids": rows, "call": {}})
        cases.append({"options": options, "ids": rows,
                      "call": {"special_tokens_mask": sm, "sample_ids": list(range(8, 16))}})
        cases.append({"options": options, "ids": flat, "values_dtype": "int64",
                      "call": {"offsets": offsets}})
        cases.append({"options": options, "ids": flat, "values_dtype": "int32",
                      "call": {"offsets": offsets, "epoch": 3}})
        cases.append({"options": options, "ids": padded,
                      "call": {"lengths": [len(r) for r in rows]}})
    return cases


def _reference(case):
    scope: dict = {}
    exec(RUN_CASE, scope)
    return scope["run_case"](reference.Masker, case)


@pytest.fixture(scope="module")
def cases():
    return _cases()


@pytest.fixture(scope="module")
def expected(cases):
    return [_reference(c) for c in cases]


@pytest.mark.parametrize("path", PATHS)
def test_every_path_matches_the_reference(path, cases, expected):
    env = dict(os.environ, FASTMASK_SIMD=path)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(fastmask.__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    run = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(cases),
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    available = _available()
    if path in available:
        assert got["path"] == path
    else:  # not on this CPU or build: the core ignores the request
        assert got["path"] != path and got["path"] in available
    for i, (g, e) in enumerate(zip(got["results"], expected)):
        assert g == e, f"path {got['path']}, case {i}: {cases[i]['options']} {list(cases[i]['call'])}"


def _available():
    """Paths this CPU runs: the portable two, and the x86 ones the CPU has."""
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        pass
    have = {"scalar", "generic"}
    if " avx2" in flags:
        have.add("avx2")
    if " avx512f" in flags:
        have.add("avx512")
    return have


def test_unknown_path_name_is_ignored():
    env = dict(os.environ, FASTMASK_SIMD="no-such-path")
    run = subprocess.run([sys.executable, "-c", "from fastmask import _core; "
                          "print(_core.simd_path())"], capture_output=True, text=True, env=env,
                         timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() in PATHS
