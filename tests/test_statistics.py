"""Statistical checks of the C core over >= 1M candidate tokens with fixed seeds.

Bounds: proportions are checked with a binomial z-score |z| <= 5 (a correct implementation fails
with probability < 6e-7 per check); uniformity with a chi-square test at p = 1e-6. With fixed
seeds the outcome is deterministic, so a pass is a pass every time.
"""

import math

import numpy as np

import fastmask

N_SEQ, SEQ_LEN = 2500, 450  # 2500 * 448 = 1.12M candidate tokens per run
VOCAB, MASK, CLS, SEP, PAD = 30522, 103, 101, 102, 0
SPECIALS = (0, 100, 101, 102, 103)


def corpus(seed=0):
    rng = np.random.default_rng(seed)
    body = rng.integers(1000, VOCAB, size=(N_SEQ, SEQ_LEN - 2))
    ids = np.empty((N_SEQ, SEQ_LEN), dtype=np.int64)
    ids[:, 0], ids[:, -1], ids[:, 1:-1] = CLS, SEP, body
    return ids


def z_score(k, n, p):
    return (k - n * p) / math.sqrt(n * p * (1 - p))


def chi2_critical(df, z=4.7534):
    """Upper 1e-6 point of chi-square(df), Wilson-Hilferty approximation (z = Phi^-1(1-1e-6))."""
    h = 2.0 / (9.0 * df)
    return df * (1 - h + z * math.sqrt(h)) ** 3


def test_pick_rate_and_80_10_10_split():
    ids = corpus()
    m = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=2024)
    out = m(ids)
    cand = N_SEQ * (SEQ_LEN - 2)
    picked = out["labels"] != -100
    k = int(picked.sum())
    assert abs(z_score(k, cand, 0.15)) <= 5, (k, cand)
    assert not picked[:, 0].any() and not picked[:, -1].any()
    new, old = out["input_ids"][picked], out["labels"][picked]
    n_mask = int((new == MASK).sum())
    n_keep = int((new == old).sum())
    n_rand = k - n_mask - n_keep
    # a random replacement can draw the original id (probability ~1/30517): count it as random
    assert abs(z_score(n_mask, k, 0.8)) <= 5
    assert abs(z_score(n_rand + n_keep, k, 0.2)) <= 5
    assert abs(z_score(n_rand, k, 0.1 * (1 - 1 / (VOCAB - len(SPECIALS))))) <= 5


def test_exact_selection_counts():
    ids = corpus(1)
    out = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=7, selection="exact",
                          max_predictions=80)(ids)
    per_row = (out["labels"] != -100).sum(axis=1)
    assert (per_row == min(80, round(SEQ_LEN * 0.15))).all()
    # positions are uniform over the candidates: every candidate column is picked ~equally
    cols = (out["labels"] != -100)[:, 1:-1].sum(axis=0)
    p = per_row[0] / (SEQ_LEN - 2)
    assert max(abs(z_score(c, N_SEQ, p)) for c in cols) <= 5
    # a single column's 5-sigma band is ~24 % of its count; these catch far smaller biases:
    # the 64-token groups of the C core (|z| <= 5 on ~24k picks each, ~3 % bands) ...
    n_cols = cols.shape[0]
    for g in range(0, n_cols, 64):
        block = cols[g:g + 64]
        assert abs(z_score(int(block.sum()), N_SEQ * block.shape[0], p)) <= 5, g
    # ... and a chi-square over all columns (p = 1e-6)
    expected = cols.mean()
    chi2 = float(((cols - expected) ** 2 / expected).sum())
    assert chi2 <= chi2_critical(n_cols - 1), chi2


def test_max_predictions_binds():
    # exact: the budget round(450 * 0.15) = 68 is cut to the cap in every row
    ids = corpus(5)
    out = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=17, selection="exact",
                          max_predictions=40)(ids)
    assert ((out["labels"] != -100).sum(axis=1) == 40).all()
    # bernoulli: ~67 picks per row on average, at most 50 kept; rows under the cap unchanged
    capped = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=18,
                             max_predictions=50)(ids)
    free = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=18)(ids)
    n_cap = (capped["labels"] != -100).sum(axis=1)
    n_free = (free["labels"] != -100).sum(axis=1)
    assert (n_cap == np.minimum(n_free, 50)).all()
    assert (n_free > 50).mean() > 0.9
    under = n_free <= 50
    assert (capped["labels"][under] == free["labels"][under]).all()
    # the capped picks are a subset of the uncapped ones
    assert not ((capped["labels"] != -100) & (free["labels"] == -100)).any()


def test_random_ids_uniform_and_never_special():
    # every candidate picked and replaced by a random id: ~1.1M draws over a 997-id range
    vocab = 1002
    specials = (0, 1, 2, 3, 500)
    rng = np.random.default_rng(3)
    ids = rng.integers(4, 500, size=(N_SEQ, SEQ_LEN))
    m = fastmask.Masker(vocab, 3, pad_token_id=0, special_ids=specials, seed=99,
                        mlm_probability=1.0, mask_replace_prob=0.0, random_replace_prob=1.0)
    out = m(ids)
    new = out["input_ids"].reshape(-1)
    assert not np.isin(new, specials).any()
    counts = np.bincount(new, minlength=vocab)
    allowed = np.setdiff1d(np.arange(vocab), specials)
    obs = counts[allowed]
    expected = new.shape[0] / allowed.shape[0]
    chi2 = float(((obs - expected) ** 2 / expected).sum())
    assert chi2 <= chi2_critical(allowed.shape[0] - 1), chi2


def test_random_ids_all_mode_covers_whole_vocab():
    vocab = 64
    rng = np.random.default_rng(4)
    ids = rng.integers(5, vocab, size=(2000, 500))
    m = fastmask.Masker(vocab, 4, special_ids=(0, 1, 2, 3, 4), seed=5, random_ids="all",
                        mlm_probability=1.0, mask_replace_prob=0.0, random_replace_prob=1.0)
    new = m(ids)["input_ids"].reshape(-1)
    counts = np.bincount(new, minlength=vocab)
    expected = new.shape[0] / vocab
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 <= chi2_critical(vocab - 1), chi2
