"""Reading Python lists stays memory-safe whatever Python code an element runs.

The bindings read each row of a batch straight from the list. An element that is an ``int``
subclass runs Python code when it is converted (``__index__`` / ``__int__``), and that code can
mutate the very list being read: shrink it, clear it, or replace its items. Every such case must
end in a clear ``ValueError``/``TypeError`` or in a correct result, never in a crash or a read of
freed memory. Each case runs in its own interpreter, so a crash fails its test instead of taking
pytest down with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRELUDE = textwrap.dedent(
    """
    import gc
    import fastmask

    class Evil(int):
        # an id whose conversion mutates the list that holds it
        def __new__(cls, value, victim, action):
            self = int.__new__(cls, value)
            self.victim = victim
            self.action = action
            return self

        def _run(self):
            v, self.victim = self.victim, None
            if v is None:
                return
            if self.action == "clear":
                v.clear()
            elif self.action == "shrink":
                del v[1:]
            elif self.action == "grow":
                v.extend([7] * 1000)
            elif self.action == "replace":
                for k in range(len(v)):
                    v[k] = 10 ** 30 + k  # big ints freed on the next replacement
                for k in range(len(v)):
                    v[k] = 9
            gc.collect()

        def __index__(self):
            self._run()
            return int.__int__(self)

        __int__ = __index__
        __hash__ = int.__hash__

    def _mutating_comparison(name):
        compare = getattr(int, name)

        def method(self, other):
            self._run()
            return compare(self, other)

        method.__name__ = name
        return method

    # comparisons run Python code too
    for _name in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        setattr(Evil, _name, _mutating_comparison(_name))

    def evil_row(n, action, value=7):
        row = [5] * n
        row[2] = Evil(value, row, action)
        return row

    def check(fn):
        try:
            out = fn()
        except (ValueError, TypeError) as exc:
            print("CLEAN-ERROR", type(exc).__name__, exc)
        else:
            print("RESULT", sorted(out))
    """
)

CASES = {
    "masker_ids": "m = fastmask.Masker(100, 4, seed=1)\n"
                  "check(lambda: m([evil_row(40, ACTION), [5, 6, 7]]))",
    "pad_ids": "check(lambda: fastmask.pad([evil_row(40, ACTION), [5, 6, 7]]))",
    "masker_word_ids": "m = fastmask.Masker(100, 4, seed=1, whole_word=True)\n"
                       "w = list(range(40))\n"
                       "w[2] = Evil(2, w, ACTION)\n"
                       "check(lambda: m([[5] * 40], word_ids=[w]))",
    "masker_offsets": "m = fastmask.Masker(100, 4, seed=1, whole_word=True)\n"
                      "o = [(k, k + 1) for k in range(40)]\n"
                      "o[2] = (Evil(2, o, ACTION), 3)\n"
                      "check(lambda: m([[5] * 40], offset_mapping=[o]))",
    "masker_special": "m = fastmask.Masker(100, 4, seed=1)\n"
                      "s = [0] * 40\n"
                      "s[2] = Evil(1, s, ACTION)\n"
                      "check(lambda: m([[5] * 40], special_tokens_mask=[s]))",
    "pad_special": "s = [0] * 40\n"
                   "s[2] = Evil(1, s, ACTION)\n"
                   "check(lambda: fastmask.pad([[5] * 40], special_tokens_mask=[s]))",
    "masker_types": "m = fastmask.Masker(100, 4, seed=1)\n"
                    "t = evil_row(40, ACTION, 1)\n"
                    "check(lambda: m([[5] * 40], token_type_ids=[t]))",
    "pad_types": "t = evil_row(40, ACTION, 1)\n"
                 "check(lambda: fastmask.pad([[5] * 40], token_type_ids=[t]))",
    # an element of row 0 mutates row 1, which the bindings measured before reading it
    "masker_ids_other_row": "m = fastmask.Masker(100, 4, seed=1)\n"
                            "r1 = [5] * 40\n"
                            "r0 = [5] * 40\n"
                            "r0[2] = Evil(7, r1, ACTION)\n"
                            "check(lambda: m([r0, r1]))",
    "masker_word_ids_other_row": "m = fastmask.Masker(100, 4, seed=1, whole_word=True)\n"
                                 "w1 = list(range(40))\n"
                                 "w0 = list(range(40))\n"
                                 "w0[2] = Evil(2, w1, ACTION)\n"
                                 "check(lambda: m([[5] * 40, [5] * 40], word_ids=[w0, w1]))",
    "masker_offsets_other_row": "m = fastmask.Masker(100, 4, seed=1, whole_word=True)\n"
                                "o1 = [(k, k + 1) for k in range(40)]\n"
                                "o0 = [(k, k + 1) for k in range(40)]\n"
                                "o0[2] = (Evil(2, o1, ACTION), 3)\n"
                                "check(lambda: m([[5] * 40, [5] * 40], offset_mapping=[o0, o1]))",
}
ACTIONS = ("clear", "shrink", "grow", "replace")


def _run(case: str, action: str) -> subprocess.CompletedProcess:
    code = PRELUDE + f"ACTION = {action!r}\n" + CASES[case] + "\n"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["PYTHONFAULTHANDLER"] = "1"
    env["PYTHONMALLOC"] = "debug"  # freed memory is poisoned, so a stale read shows
    return subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_mutating_element_is_safe(case, action):
    run = _run(case, action)
    assert run.returncode == 0, (f"{case}/{action} crashed ({run.returncode}):\n"
                                 f"{run.stdout}\n{run.stderr[-3000:]}")
    out = run.stdout.strip().splitlines()
    assert out and (out[-1].startswith("CLEAN-ERROR") or out[-1].startswith("RESULT")), run.stdout
    if out[-1].startswith("CLEAN-ERROR"):
        # the message names the argument that was being read
        assert any(name in out[-1] for name in
                   ("input_ids", "word_ids", "offset_mapping", "special_tokens_mask",
                    "token_type_ids")), out[-1]
