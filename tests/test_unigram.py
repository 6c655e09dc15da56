"""random_ids="unigram": random replacements drawn in proportion to per-id counts.

The rule (docs/semantics.md, section 8): r = bounded(total, W(ACTION, j)[1], ACTION, j), the
new id is the first id whose cumulative count exceeds r; special ids weigh 0.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from conftest import MASK, PAD, SPECIALS, VOCAB, make_masker

import fastmask
import fastmask.reference as reference
from fastmask import _config

ALL_RANDOM = dict(mlm_probability=1.0, mask_replace_prob=0.0, random_replace_prob=1.0)


def _counts(seed: int, V: int = VOCAB, zero_every: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 1000, size=V)
    counts[::zero_every] = 0
    counts[list(SPECIALS)] = 10 ** 6  # specials carry weight in the file, never in the draw
    return counts


def _drawn(impl, counts, n_rows: int, row_len: int, **kw) -> np.ndarray:
    """Ids drawn by every picked token of n_rows rows of non-special tokens."""
    m = make_masker(impl, random_ids="unigram", unigram_counts=counts, **{**ALL_RANDOM, **kw})
    rng = np.random.default_rng(5)
    seqs = [rng.integers(5, m.vocab_size, size=row_len).tolist() for _ in range(n_rows)]
    out = m(seqs)
    assert (out["labels"] != -100).all()  # every token was picked and replaced by a draw
    return out["input_ids"].reshape(-1)


def _chi2(observed: np.ndarray, expected: np.ndarray) -> float:
    keep = expected > 0
    return float(np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep]))


def _chi2_bound(df: int, z: float = 4.9) -> float:
    """Wilson-Hilferty upper quantile of chi-square(df) at standard-normal z (z=4.9: p < 1e-6)."""
    a = 2.0 / (9.0 * df)
    return df * (1.0 - a + z * math.sqrt(a)) ** 3


# ---- statistics -------------------------------------------------------------------------------


def test_chi_square_against_counts(impl):
    """Drawn ids follow the counts: chi-square below its 1 - 1e-6 quantile (fixed seed), while
    a uniform draw over the non-special ids, judged against the same counts, is far above it."""
    V = 40
    counts = np.array([0] * 5 + [(i * 7) % 23 for i in range(5, V)], dtype=np.int64)
    counts[[0, 2, 4]] = 500  # specials: ignored
    n = 40_000 if impl is fastmask else 12_000
    m = impl.Masker(V, MASK, pad_token_id=PAD, special_ids=SPECIALS, seed=77,
                    random_ids="unigram", unigram_counts=counts, **ALL_RANDOM)
    rng = np.random.default_rng(3)
    out = m([rng.integers(5, V, size=400).tolist() for _ in range(n // 400)])
    got = out["input_ids"].reshape(-1)
    assert (out["labels"] != -100).all()
    weights = counts.astype(float)
    weights[list(SPECIALS)] = 0
    expected = weights / weights.sum() * got.size
    observed = np.bincount(got, minlength=V).astype(float)
    assert observed[weights == 0].sum() == 0  # zero-count and special ids never drawn
    df = int((weights > 0).sum()) - 1
    bound = _chi2_bound(df)
    assert _chi2(observed, expected) < bound
    # the same test rejects uniform draws over the non-special ids
    u = impl.Masker(V, MASK, pad_token_id=PAD, special_ids=SPECIALS, seed=77, **ALL_RANDOM)
    uni = u([rng.integers(5, V, size=400).tolist() for _ in range(n // 400)])["input_ids"]
    uobs = np.bincount(uni.reshape(-1), minlength=V).astype(float)
    assert uobs[weights == 0].sum() > 0
    assert _chi2(uobs, expected) > 10 * bound


def test_specials_and_zero_counts_never_drawn():
    counts = _counts(11)
    got = _drawn(fastmask, counts, 100, 512)
    allowed = counts > 0
    allowed[list(SPECIALS)] = False
    assert allowed[got].all()
    assert len(set(got.tolist())) > 0.9 * allowed.sum()  # and nearly every allowed id shows up


def test_single_allowed_id(impl):
    counts = np.zeros(VOCAB, dtype=np.int64)
    counts[123] = 5
    counts[MASK] = 99
    assert set(_drawn(impl, counts, 4, 50).tolist()) == {123}


# ---- C and reference agree bit for bit -----------------------------------------------------


@pytest.mark.parametrize("case", range(24))
def test_c_matches_reference(case):
    rng = np.random.default_rng(1000 + case)
    V = int(rng.choice([6, 50, 700, 5000]))
    specials = sorted(set(rng.integers(0, V, size=int(rng.integers(0, 4))).tolist()) | {0})
    mask_id = int(rng.integers(0, V))
    counts = rng.integers(0, 5, size=V) * rng.integers(1, 10 ** int(rng.integers(1, 18)), size=V)
    counts[int(rng.integers(0, V))] = 3  # at least one drawable id (unless it is special)
    if case % 5 == 0:  # totals beyond 2^32: the scaled table
        counts = counts.astype(np.uint64) * np.uint64(1 << 40)
    nonspecial = [i for i in range(V) if i not in set(specials) | {mask_id}]
    if not nonspecial:
        return
    counts[nonspecial[0]] += 1
    opts = dict(pad_token_id=0, special_ids=specials, seed=int(rng.integers(0, 1 << 63)),
                random_ids="unigram", unigram_counts=counts,
                mlm_probability=float(rng.choice([0.15, 0.5, 1.0])),
                mask_replace_prob=float(rng.choice([0.0, 0.1, 0.3])),
                random_replace_prob=0.2 if case % 2 else 0.7,
                selection=str(rng.choice(["bernoulli", "exact", "span"])),
                action=str(rng.choice(["token", "unit"])))
    seqs = [rng.integers(0, V, size=int(rng.integers(0, 120))).tolist() for _ in range(12)]
    epoch = int(rng.integers(0, 5))
    a = fastmask.Masker(V, mask_id, **opts)(seqs, epoch=epoch)
    b = reference.Masker(V, mask_id, **opts)(seqs, epoch=epoch)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=f"{key} (case {case})")


def test_whole_word_matches_reference():
    counts = _counts(4)
    opts = dict(pad_token_id=PAD, special_ids=SPECIALS, seed=9, random_ids="unigram",
                unigram_counts=counts, whole_word=True, action="unit", mlm_probability=0.4,
                mask_replace_prob=0.2, random_replace_prob=0.6)
    rng = np.random.default_rng(2)
    seqs = [rng.integers(0, VOCAB, size=80).tolist() for _ in range(10)]
    starts = [rng.integers(0, 2, size=80).tolist() for _ in range(10)]
    a = fastmask.Masker(VOCAB, MASK, **opts)(seqs, word_starts=starts)
    b = reference.Masker(VOCAB, MASK, **opts)(seqs, word_starts=starts)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


# ---- the table ----------------------------------------------------------------------------


def test_cumulative_table_exact():
    assert _config.unigram_cumulative(np.array([5, 0, 2, 7], dtype=np.int64), (0,)) == (0, 0, 2, 9)


def test_scaling_beyond_the_bounded_range():
    """Totals above 2^32 - 1: w -> ceil(w / 2^s), smallest s >= 1 that fits; non-zero stays
    non-zero."""
    big = 1 << 40
    counts = np.array([0, big, big, 1, 3 * big], dtype=np.uint64)
    cum = _config.unigram_cumulative(counts, ())
    # total 5*2^40 + 1 has 43 bits: s = 11 is the first shift that can fit, and does
    s = 11
    want = [0, big >> s, big >> s, 1, (3 * big) >> s]
    assert cum == tuple(np.cumsum(want).tolist())
    assert cum[-1] <= _config.MAX_UNIGRAM_TOTAL
    # the largest counts a uint64 holds
    top = np.full(7, np.iinfo(np.uint64).max, dtype=np.uint64)
    cum = _config.unigram_cumulative(top, ())
    assert 0 < cum[-1] <= _config.MAX_UNIGRAM_TOTAL and len(set(np.diff(cum))) == 1
    # the smallest shift: one less would not fit
    w = [int(x) for x in top]
    s = next(s for s in range(1, 65) if sum(-(-x >> s) for x in w) <= _config.MAX_UNIGRAM_TOTAL)
    assert cum[-1] == sum(-(-x >> s) for x in w)


def test_scaled_counts_match_reference_and_stay_in_proportion():
    V = 30
    counts = np.arange(V, dtype=np.uint64) * np.uint64(1 << 50)
    a = _drawn(fastmask, counts, 10, 300, vocab_size=V)
    b = _drawn(reference, counts, 10, 300, vocab_size=V)
    np.testing.assert_array_equal(a, b)


def test_counts_array_not_modified_nor_kept():
    counts = _counts(8)
    before = counts.copy()
    m = make_masker(fastmask, random_ids="unigram", unigram_counts=counts)
    np.testing.assert_array_equal(counts, before)
    out1 = m([[7, 8, 9] * 50], sample_ids=[3])
    counts[:] = 0
    out2 = m([[7, 8, 9] * 50], sample_ids=[3])
    np.testing.assert_array_equal(out1["input_ids"], out2["input_ids"])


def test_list_counts_accepted():
    counts = _counts(3)
    a = make_masker(fastmask, random_ids="unigram", unigram_counts=counts.tolist(), **ALL_RANDOM)
    b = make_masker(fastmask, random_ids="unigram", unigram_counts=counts, **ALL_RANDOM)
    seqs = [[10, 11, 12, 13] * 20]
    np.testing.assert_array_equal(a(seqs)["input_ids"], b(seqs)["input_ids"])


# ---- the default is unchanged ---------------------------------------------------------------

# sha256 of the outputs below, computed with the code as it was before random_ids="unigram"
DEFAULT_DIGEST = "840003d4c4a89760d6183115a04c55baf8ebe7813fb96a39dd9f8ead5fa5d5eb"


@pytest.mark.parametrize("implementation", [fastmask, reference], ids=["c", "reference"])
def test_default_output_unchanged(implementation):
    h = hashlib.sha256()
    rng = np.random.default_rng(7)
    for k, opts in enumerate([dict(), dict(random_ids="all"),
                              dict(mlm_probability=0.5, random_replace_prob=0.5,
                                   mask_replace_prob=0.2),
                              dict(selection="exact", random_replace_prob=1.0,
                                   mask_replace_prob=0.0)]):
        m = implementation.Masker(1000, 4, pad_token_id=0, special_ids=(0, 1, 2, 3, 4),
                                  seed=99 + k, **opts)
        seqs = [rng.integers(5, 1000, size=int(n)).tolist() for n in rng.integers(0, 200, size=32)]
        out = m(seqs)
        for key in ("input_ids", "labels", "attention_mask"):
            h.update(np.ascontiguousarray(out[key], dtype=np.int64).tobytes())
    assert h.hexdigest() == DEFAULT_DIGEST


# ---- errors -------------------------------------------------------------------------------


def test_errors_are_named(impl):
    with pytest.raises(ValueError, match=r"unigram_counts must have one entry per id \(1000\)"):
        make_masker(impl, random_ids="unigram", unigram_counts=np.ones(999, dtype=np.int64))
    with pytest.raises(ValueError, match=r"unigram_counts must have one entry per id"):
        make_masker(impl, random_ids="unigram", unigram_counts=np.ones((2, 500), dtype=np.int64))
    neg = np.ones(VOCAB, dtype=np.int64)
    neg[17] = -1
    with pytest.raises(ValueError, match=r"unigram_counts\[17\] = -1 is negative"):
        make_masker(impl, random_ids="unigram", unigram_counts=neg)
    only_specials = np.zeros(VOCAB, dtype=np.int64)
    only_specials[list(SPECIALS)] = 10
    with pytest.raises(ValueError, match="unigram_counts: every id that may be drawn has count 0"):
        make_masker(impl, random_ids="unigram", unigram_counts=only_specials)
    with pytest.raises(ValueError, match='unigram_counts is only used with random_ids="unigram"'):
        make_masker(impl, unigram_counts=np.ones(VOCAB, dtype=np.int64))
    with pytest.raises(ValueError, match='random_ids="unigram" needs unigram_counts'):
        make_masker(impl, random_ids="unigram")
    with pytest.raises(TypeError, match="unigram_counts must be an integer array"):
        make_masker(impl, random_ids="unigram", unigram_counts=np.ones(VOCAB))
    with pytest.raises(ValueError, match="random_ids must be one of"):
        make_masker(impl, random_ids="unigrams")


def test_c_core_rejects_a_bad_table():
    from fastmask import _core

    kc = make_masker(fastmask, random_ids="unigram", unigram_counts=_counts(1))._kc
    import dataclasses

    cum = list(kc.random_cum)
    cum[MASK] += 1  # weight on a special id
    cum[-1] = kc.random_range
    bad = dataclasses.replace(kc, random_cum=tuple(min(c, kc.random_range) for c in cum))
    with pytest.raises(ValueError, match="rejected"):
        _core.CoreConfig(bad)
    with pytest.raises(ValueError, match="one entry per id"):
        _core.CoreConfig(dataclasses.replace(kc, random_cum=kc.random_cum[:-1]))
    with pytest.raises(ValueError, match="rejected"):
        _core.CoreConfig(dataclasses.replace(kc, random_range=kc.random_range - 1))


# ---- the collator takes the option from the Masker's signature ------------------------------


def test_collator_unigram():
    torch = pytest.importorskip("torch")
    from fastmask.torch import MLMCollator

    counts = _counts(6)
    c = MLMCollator(VOCAB, MASK, pad_token_id=PAD, special_ids=SPECIALS, seed=5,
                    random_ids="unigram", unigram_counts=counts, **ALL_RANDOM)
    examples = [{"input_ids": list(range(10, 60)), "sample_id": 7},
                {"input_ids": list(range(100, 130)), "sample_id": 8}]
    batch = c(examples)
    m = make_masker(fastmask, seed=5, random_ids="unigram", unigram_counts=counts, **ALL_RANDOM)
    want = m([e["input_ids"] for e in examples], sample_ids=[7, 8])
    assert isinstance(batch["input_ids"], torch.Tensor)
    np.testing.assert_array_equal(batch["input_ids"].numpy(), want["input_ids"])
    allowed = counts > 0
    allowed[list(SPECIALS)] = False
    assert allowed[batch["input_ids"][batch["attention_mask"] == 1].numpy()].all()


# ---- the command-line option and its file reader -------------------------------------------


def test_cli_counts_file(tmp_path):
    import argparse

    from fastmask.cli import args as A

    counts = _counts(12)
    npy = tmp_path / "counts.npy"
    np.save(npy, counts)
    txt = tmp_path / "counts.txt"
    txt.write_text("# id counts\n" + "\n".join(map(str, counts.tolist())) + "\n\n")
    np.testing.assert_array_equal(A.read_unigram_counts(str(npy)), counts)
    np.testing.assert_array_equal(A.read_unigram_counts(str(txt)), counts)
    # the shared option table carries the flag; a parser built from it gives Masker options
    p = argparse.ArgumentParser()
    A.add_masking_options(p, ("random_ids", "unigram_counts", "seed"))
    ns = p.parse_args(["--random-ids", "unigram", "--unigram-counts", str(txt), "--seed", "3"])
    m = make_masker(fastmask, random_ids=ns.random_ids, unigram_counts=A.unigram_counts(ns),
                    seed=ns.seed, **ALL_RANDOM)
    want = make_masker(fastmask, random_ids="unigram", unigram_counts=counts, seed=3,
                       **ALL_RANDOM)
    seqs = [[9, 10, 11] * 30]
    np.testing.assert_array_equal(m(seqs)["input_ids"], want(seqs)["input_ids"])
    assert A.unigram_counts(p.parse_args([])) is None
    assert A.FLAG_NAMES["unigram_counts"] == "--unigram-counts"


def test_cli_counts_errors(tmp_path):
    import argparse

    from fastmask.cli import args as A

    bad = tmp_path / "bad.txt"
    bad.write_text("3\n4\nfive\n")
    with pytest.raises(A.UsageError, match=r"--unigram-counts: .*bad.txt:3: expected one integer"):
        A.read_unigram_counts(str(bad))
    bad.write_text("3\n-4\n")
    with pytest.raises(A.UsageError, match=r"bad.txt:2: count -4 is negative"):
        A.read_unigram_counts(str(bad))
    with pytest.raises(A.UsageError, match="--unigram-counts: cannot read"):
        A.read_unigram_counts(str(tmp_path / "missing.txt"))
    floats = tmp_path / "f.npy"
    np.save(floats, np.ones(5))
    with pytest.raises(A.UsageError, match="must hold a 1-D integer array"):
        A.read_unigram_counts(str(floats))
    with pytest.raises(A.UsageError, match="--random-ids unigram needs --unigram-counts"):
        A.unigram_counts(argparse.Namespace(random_ids="unigram", unigram_counts=None))
    with pytest.raises(A.UsageError, match="only used with --random-ids unigram"):
        A.unigram_counts(argparse.Namespace(random_ids="all", unigram_counts=str(bad)))
    # a Masker error about the counts reads in flag names
    short = np.ones(10, dtype=np.int64)
    with pytest.raises(ValueError) as e:
        make_masker(fastmask, random_ids="unigram", unigram_counts=short)
    assert A.flag_message(str(e.value)).startswith("--unigram-counts must have one entry per id")


def test_pickle_and_threads_keep_the_draws():
    import pickle

    counts = _counts(21)
    m = make_masker(fastmask, random_ids="unigram", unigram_counts=counts, **ALL_RANDOM)
    rng = np.random.default_rng(8)
    seqs = [rng.integers(5, VOCAB, size=300).tolist() for _ in range(64)]
    sids = np.arange(64)
    want = m(seqs, sample_ids=sids)
    again = pickle.loads(pickle.dumps(m))(seqs, sample_ids=sids)
    threaded = make_masker(fastmask, random_ids="unigram", unigram_counts=counts, num_threads=2,
                           **ALL_RANDOM)(seqs, sample_ids=sids)
    for key in want:
        np.testing.assert_array_equal(want[key], again[key])
        np.testing.assert_array_equal(want[key], threaded[key])
