"""Shared fixtures: every behavioural test runs against the C core and the pure-Python twin.

With ``FASTMASK_NO_SKIPS=1`` (set by .ci/run, where every optional dependency is installed) a
skipped test fails instead, so a broken module or a missing install cannot hide behind a skip.
A skip whose reason starts with ``platform:`` (a test for another operating system) is kept.
"""

import os

import pytest

import fastmask
import fastmask.reference as reference


@pytest.fixture(params=["c", "reference"])
def impl(request):
    """The module under test: ``fastmask`` (C core) or ``fastmask.reference`` (pure Python)."""
    return fastmask if request.param == "c" else reference


# a small BERT-like vocabulary layout used across the tests
PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
SPECIALS = (PAD, UNK, CLS, SEP, MASK)
VOCAB = 1000


def make_masker(impl, **kw):
    opts = dict(vocab_size=VOCAB, mask_token_id=MASK, pad_token_id=PAD, special_ids=SPECIALS,
                seed=1234)
    opts.update(kw)
    return impl.Masker(**opts)


def random_batch(rng, n=16, lo=0, hi=40, specials=True):
    """Lists of ids framed by [CLS] ... [SEP], lengths in [lo, hi]."""
    out = []
    for _ in range(n):
        m = int(rng.integers(lo, hi + 1))
        body = rng.integers(5, VOCAB, size=max(m - 2, 0)).tolist()
        out.append(([CLS] + body + [SEP])[:m] if specials else body)
    return out


#: a vocabulary for word tables: even ids start a word, odd ids are "##" pieces that continue one
TABLE_VOCAB = [f"w{i}" if i % 2 == 0 else f"##w{i}" for i in range(VOCAB)]
TABLE_VOCAB[:5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def chinese_rows(rng, n, max_body, piece_every):
    """``n`` pairs (ids, chinese_ref): [CLS] + 6 to ``max_body - 1`` 'characters' (even ids, one
    in ``piece_every`` turned into a ## piece) + [SEP], and refs grouping them in words of 1-3
    characters (the positions after a word's first character)."""
    rows = []
    for _ in range(n):
        body = (2 * rng.integers(3, VOCAB // 2, size=int(rng.integers(6, max_body)))).tolist()
        for j in rng.choice(len(body), size=len(body) // piece_every, replace=False):
            body[j] += 1  # a ## piece
        ids = [CLS] + body + [SEP]
        ref, j = [], 1
        while j < len(ids) - 1:
            size = int(rng.integers(1, 4))
            ref += list(range(j + 1, min(j + size, len(ids) - 1)))
            j += size
        rows.append((ids, ref))
    return rows


def import_cycles(graph):
    """Every cycle a depth-first walk of ``graph`` ({module: modules it imports}) meets, each as
    the list of modules along it (first and last the same)."""
    state, cycles = {}, []

    def visit(m, stack):
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t, stack + [t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    return cycles


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("FASTMASK_NO_SKIPS", "") in ("", "0") or not report.skipped:
        return
    if hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if reason.startswith("Skipped: "):
        reason = reason[len("Skipped: "):]
    if not reason.startswith("platform:"):
        report.outcome = "failed"
        report.longrepr = f"unexpected skip (FASTMASK_NO_SKIPS=1): {reason}"
