"""Every constant the Python side retypes from the C core matches the C headers.

The C core defines its constants once, as ``#define FM_...`` in csrc/*.h (the API header
fastmask.h, plus the internal limits of fm_common.h and the Philox constants of philox.h). The
Python layer mirrors some of them: selection and unit codes and limits in fastmask/_config.py,
random-stream domains, retry rounds and Philox constants in the pure-Python reference, the word
table values in fastmask.words, status codes in the compiled bindings. This test reads the
headers as text (not through the compiled module) and checks each mirror.

The reference is looked up in ``fastmask.reference`` and, when it is a package, in every one of
its submodules, so the test keeps working whichever file of the package holds a constant.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from types import ModuleType
from typing import Dict, List

import pytest

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"

_DEFINE = re.compile(r"^\s*#\s*define\s+(FM_[A-Z0-9_]+)\s+(.+?)\s*(?:/\*.*)?$")
_CASTS = re.compile(r"\((?:u?int(?:8|16|32|64)_t|unsigned|int|long long)\)")
_LIMITS = {"INT32_MAX": (1 << 31) - 1, "INT64_MAX": (1 << 63) - 1, "UINT32_MAX": (1 << 32) - 1}


def _eval_c_int(expr: str):
    """The value of a C integer constant expression of the simple forms the headers use
    (decimal, hex, u/U suffixes, casts, shifts, unary minus, <stdint.h> limits); None for
    anything else (macros with arguments, attributes, strings)."""
    text = _CASTS.sub("", expr)
    for name, value in _LIMITS.items():
        text = text.replace(name, str(value))
    text = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", text)
    if not re.fullmatch(r"[0-9a-fA-FxX()<>+\-*| ]+", text):
        return None
    try:
        value = eval(text, {"__builtins__": {}}, {})  # digits and operators only (checked above)
    except SyntaxError:
        return None
    return value if isinstance(value, int) else None


def _header_constants() -> Dict[str, int]:
    """FM_* integer constants of csrc/*.h; a name given different values on the branches of an
    #if (such as FM_HAVE_X86) is left out."""
    out: Dict[str, int] = {}
    ambiguous = set()
    for header in sorted(CSRC.glob("*.h")):
        for line in header.read_text().splitlines():
            m = _DEFINE.match(line)
            if m is None:
                continue
            value = _eval_c_int(m.group(2))
            if value is None:
                continue
            if out.get(m.group(1), value) != value:
                ambiguous.add(m.group(1))
            out[m.group(1)] = value
    return {k: v for k, v in out.items() if k not in ambiguous}


C = _header_constants()


def _modules(name: str) -> List[ModuleType]:
    """A module and, when it is a package, all its submodules."""
    mod = importlib.import_module(name)
    mods = [mod]
    if hasattr(mod, "__path__"):
        for info in pkgutil.walk_packages(mod.__path__, prefix=name + "."):
            mods.append(importlib.import_module(info.name))
    return mods


def _lookup(module: str, attr: str):
    """The value of `attr` in `module` (or its submodules); every module that defines it must
    agree."""
    values = {id(m): getattr(m, attr) for m in _modules(module) if hasattr(m, attr)}
    assert values, f"{attr} is defined nowhere in {module}"
    distinct = set(values.values())
    assert len(distinct) == 1, f"{module} defines {attr} differently: {distinct}"
    return distinct.pop()


# (C name, Python module, Python name)
MIRRORS = [
    ("FM_SELECT_BERNOULLI", "fastmask._config", "SELECT_BERNOULLI"),
    ("FM_SELECT_EXACT", "fastmask._config", "SELECT_EXACT"),
    ("FM_SELECT_SPAN", "fastmask._config", "SELECT_SPAN"),
    ("FM_UNITS_TOKENS", "fastmask._config", "UNITS_TOKENS"),
    ("FM_UNITS_WORDS", "fastmask._config", "UNITS_WORDS"),
    ("FM_TWO32", "fastmask._config", "TWO32"),
    ("FM_MAX_SID", "fastmask._config", "MAX_SAMPLE_ID"),
    ("FM_MAX_VOCAB", "fastmask._config", "MAX_VOCAB"),
    ("FM_DOMAIN_SELECT", "fastmask.reference", "DOMAIN_SELECT"),
    ("FM_DOMAIN_ACTION", "fastmask.reference", "DOMAIN_ACTION"),
    ("FM_DOMAIN_SHUFFLE", "fastmask.reference", "DOMAIN_SHUFFLE"),
    ("FM_DOMAIN_SPAN", "fastmask.reference", "DOMAIN_SPAN"),
    ("FM_DOMAIN_RETRY", "fastmask.reference", "DOMAIN_RETRY"),
    ("FM_RETRY_ROUNDS", "fastmask.reference", "RETRY_ROUNDS"),
    ("FM_PHILOX_M0", "fastmask.reference", "PHILOX_M0"),
    ("FM_PHILOX_M1", "fastmask.reference", "PHILOX_M1"),
    ("FM_PHILOX_W0", "fastmask.reference", "PHILOX_W0"),
    ("FM_PHILOX_W1", "fastmask.reference", "PHILOX_W1"),
    ("FM_PHILOX_ROUNDS", "fastmask.reference", "PHILOX_ROUNDS"),
    ("FM_WORD_CONTINUES", "fastmask.words", "WORD_CONTINUES"),
    ("FM_WORD_STARTS", "fastmask.words", "WORD_STARTS"),
    ("FM_WORD_STANDS_ALONE", "fastmask.words", "WORD_STANDS_ALONE"),
    ("FM_OK", "fastmask._core", "OK"),
    ("FM_ERR_ARG", "fastmask._core", "ERR_ARG"),
    ("FM_ERR_ID_RANGE", "fastmask._core", "ERR_ID_RANGE"),
    ("FM_ERR_LENGTH", "fastmask._core", "ERR_LENGTH"),
    ("FM_ERR_RNG", "fastmask._core", "ERR_RNG"),
    ("FM_ERR_WORKSPACE", "fastmask._core", "ERR_WORKSPACE"),
    ("FM_ERR_SPAN", "fastmask._core", "ERR_SPAN"),
]


def test_parser_reads_the_headers():
    # the parser must see the forms the headers use, or the mirrors below check nothing
    assert C["FM_ERR_ARG"] == -1
    assert C["FM_DOMAIN_RETRY"] == 0x8000
    assert C["FM_MAX_SID"] == 1 << 48
    assert C["FM_PHILOX_M0"] == 0xD2511F53
    assert C["FM_MAX_VOCAB"] == (1 << 31) - 1
    assert _eval_c_int("((uint64_t)1 << 32)") == 1 << 32
    assert _eval_c_int("(-5)") == -5
    assert _eval_c_int("__attribute__((noinline))") is None


@pytest.mark.parametrize("c_name,module,py_name", MIRRORS, ids=[m[0] for m in MIRRORS])
def test_mirrored_constant_matches_header(c_name, module, py_name):
    assert c_name in C, f"{c_name} is not defined in csrc/*.h"
    assert _lookup(module, py_name) == C[c_name], f"{module}.{py_name} != {c_name}"


def test_every_status_code_has_a_message():
    from fastmask import _core

    codes = {v for k, v in C.items() if k == "FM_OK" or k.startswith("FM_ERR_")}
    assert set(_core.STATUS) == codes
    mirrored = {c for c, m, _ in MIRRORS if m == "fastmask._core"}
    assert mirrored == {k for k in C if k == "FM_OK" or k.startswith("FM_ERR_")}


def test_selection_table_uses_the_codes():
    from fastmask import _config

    assert _config.SELECTIONS == {"bernoulli": C["FM_SELECT_BERNOULLI"],
                                  "exact": C["FM_SELECT_EXACT"], "span": C["FM_SELECT_SPAN"]}


def test_dispatch_paths_match_instruction_sets():
    # fm_internal.h promises FM_PATH_* equal FM_ISA_* of philox.h
    for name in ("SCALAR", "GENERIC", "AVX2", "AVX512", "COUNT"):
        assert C[f"FM_PATH_{name}"] == C[f"FM_ISA_{name}"], name
