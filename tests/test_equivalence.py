"""The C core and the pure-Python reference agree bit for bit on random inputs and options.

Every hypothesis test here is derandomised, so CI runs the same examples on every run.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastmask
import fastmask.reference as reference

VOCAB_SIZES = st.sampled_from([6, 7, 50, 1000, 30522, 250002])


@st.composite
def configs(draw):
    vocab = draw(VOCAB_SIZES)
    specials = draw(st.lists(st.integers(0, vocab - 1), max_size=6, unique=True))
    mask_id = draw(st.integers(0, vocab - 1))
    pad_id = draw(st.integers(0, vocab - 1))
    if len(set(specials) | {mask_id, pad_id}) >= vocab:
        specials = []
        if len({mask_id, pad_id}) >= vocab:
            pad_id = mask_id
    pm = draw(st.sampled_from([0.0, 0.8, 1.0, 0.5]))
    pr = draw(st.sampled_from([0.0, 0.1, 1.0 - pm, 0.05]))
    selection = draw(st.sampled_from(["bernoulli", "exact", "span"]))
    opts = dict(
        vocab_size=vocab, mask_token_id=mask_id, pad_token_id=pad_id, special_ids=specials,
        mlm_probability=draw(st.sampled_from([0.0, 0.15, 0.5, 1.0, 0.3333])),
        mask_replace_prob=pm, random_replace_prob=min(pr, 1.0 - pm), selection=selection,
        max_predictions=draw(st.sampled_from([None, 0, 1, 5, 20])),
        random_ids=draw(st.sampled_from(["non_special", "all"])),
        seed=draw(st.integers(0, 2 ** 64 - 1)),
        whole_word=draw(st.booleans()),
        action=draw(st.sampled_from(["token", "unit"])),
        span_lengths=draw(st.sampled_from(["spanbert", "albert", (0.5, 0.0, 0.5)])),
        padding_side=draw(st.sampled_from(["right", "left"])),
        dtype=draw(st.sampled_from(["int64", "int32"])),
        ignore_index=draw(st.sampled_from([-100, -1])),
    )
    return opts


@st.composite
def batches(draw, vocab):
    n = draw(st.integers(0, 6))
    seqs = [draw(st.lists(st.integers(0, vocab - 1), max_size=70)) for _ in range(n)]
    return seqs


@settings(max_examples=1500, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_c_and_reference_agree(data):
    opts = data.draw(configs())
    seqs = data.draw(batches(opts["vocab_size"]))
    call = {"epoch": data.draw(st.integers(0, 2 ** 32 - 1)),
            "sample_ids": [data.draw(st.integers(0, 2 ** 48 - 1)) for _ in seqs]}
    if data.draw(st.booleans()):
        call["special_tokens_mask"] = [[data.draw(st.integers(0, 1)) for _ in s] for s in seqs]
    if opts["whole_word"]:
        if data.draw(st.booleans()):
            call["word_starts"] = [[data.draw(st.integers(0, 1)) for _ in s] for s in seqs]
        else:
            rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
            table = rng.integers(0, 3, size=opts["vocab_size"], dtype=np.uint8).tobytes()
            opts["word_table"] = table
    c = fastmask.Masker(**opts)(seqs, **call)
    r = reference.Masker(**opts)(seqs, **call)
    assert set(c) == set(r)
    for k in c:
        assert c[k].dtype == r[k].dtype and c[k].shape == r[k].shape, k
        assert (c[k] == r[k]).all(), k


def test_long_sequences_agree():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, 30522, size=int(n)).tolist() for n in rng.integers(0, 1500, 6)]
    for sel in ("bernoulli", "exact", "span"):
        for ww in (False, True):
            opts = dict(vocab_size=30522, mask_token_id=103, special_ids=(0, 100, 101, 102),
                        seed=42, selection=sel, whole_word=ww)
            call = {}
            if ww:
                call["word_starts"] = [(rng.random(len(s)) < 0.7).astype(int).tolist()
                                       for s in seqs]
            c = fastmask.Masker(**opts)(seqs, **call)
            r = reference.Masker(**opts)(seqs, **call)
            for k in c:
                assert (c[k] == r[k]).all(), (sel, ww, k)


def test_generator_agrees():
    rng = np.random.default_rng(1)
    from fastmask import _core

    for _ in range(200):
        ctr = [int(x) for x in rng.integers(0, 2 ** 32, 4)]
        key = [int(x) for x in rng.integers(0, 2 ** 32, 2)]
        assert _core.philox4x32_10(ctr, key) == reference.philox4x32_10(ctr, key)
        seed = int(rng.integers(0, 2 ** 63)) * 2 + 1
        args = (seed, int(rng.integers(0, 2 ** 32)), int(rng.integers(0, 2 ** 48)),
                int(rng.integers(1, 5)), int(rng.integers(0, 2 ** 32)))
        assert _core.stream_block(*args) == reference.stream_block(*args)
        R = int(rng.integers(1, 2 ** 32))
        x = int(rng.integers(0, 2 ** 32))
        assert _core.bounded(*args, R, x) == reference.bounded(*args, R, x)


# ---------------------------------------------------------------------------------------------
# Wide inputs: long rows (crossing the C core's 64-token groups), mostly 0 < p < 1 with many
# candidates, every layout option, every input form and dtype, side inputs, every source of word
# boundaries and several threads (the per-thread token floor is lowered so that small batches
# are split too).

from unittest import mock  # noqa: E402

from fastmask import _api  # noqa: E402

FORMS = ("lists", "arrays", "2d", "2d_lengths", "2d_attention", "ragged")
BOUNDARIES = ("word_starts", "word_ids", "offset_mapping", "chinese_ref", "chinese_ref+word_ids",
              "chinese_ref+word_starts", "word_table")


def _lengths(draw, rng, n_rows):
    bucket = draw(st.sampled_from(["short", "medium", "long", "mixed"]))
    lo, hi = {"short": (1, 12), "medium": (12, 140), "long": (130, 600),
              "mixed": (0, 600)}[bucket]
    return rng.integers(lo, hi + 1, size=n_rows).tolist()


def _word_ids(starts, special):
    out, w = [], -1
    for f, sp in zip(starts, special):
        if sp:
            out.append(None)
            continue
        w += 1 if f or w < 0 else 0
        out.append(w)
    return out


def _offsets(starts, special):
    out, pos = [], 0
    for f, sp in zip(starts, special):
        if sp:
            out.append((0, 0))
            continue
        pos += 1 if f else 0
        out.append((pos, pos + 2))
        pos += 2
    return out


@st.composite
def wide_cases(draw):
    vocab = draw(st.sampled_from([50, 1000, 30522]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    specials = [0, 1, 2, 3]
    mask_id, pad_id = 4, draw(st.sampled_from([0, 5]))
    selection = draw(st.sampled_from(["bernoulli", "exact", "span"]))
    whole_word = draw(st.booleans())
    pm = draw(st.sampled_from([0.8, 0.5, 1.0, 0.0]))
    opts = dict(
        vocab_size=vocab, mask_token_id=mask_id, pad_token_id=pad_id, special_ids=specials,
        mlm_probability=draw(st.sampled_from([0.15, 0.3333, 0.5, 0.05, 0.9, 0.15, 0.0, 1.0])),
        mask_replace_prob=pm, random_replace_prob=min(draw(st.sampled_from([0.1, 0.5])), 1 - pm),
        selection=selection, max_predictions=draw(st.sampled_from([None, None, 3, 20, 80])),
        random_ids=draw(st.sampled_from(["non_special", "all"])),
        seed=draw(st.integers(0, 2 ** 64 - 1)), whole_word=whole_word,
        action=draw(st.sampled_from(["token", "unit"])),
        span_lengths=draw(st.sampled_from(["spanbert", "albert"])),
        padding_side=draw(st.sampled_from(["right", "left"])),
        dtype=draw(st.sampled_from(["int64", "int32"])),
        num_threads=draw(st.sampled_from([1, 2, 3])),
        pad_to_multiple_of=draw(st.sampled_from([None, None, 1, 8, 64])),
    )
    n_rows = draw(st.integers(1, 8))
    lens = _lengths(draw, rng, n_rows)
    if draw(st.booleans()):
        opts["max_length"] = draw(st.sampled_from([1, 7, 64, 65, 128, 300, 600, 700]))
        opts["truncation"] = max(lens) > opts["max_length"] or draw(st.booleans())
        opts["padding"] = draw(st.sampled_from(["longest", "max_length"]))
    seqs = []
    for n in lens:
        body = rng.integers(5, vocab, size=n)
        body[rng.random(n) < 0.05] = rng.integers(0, 5)
        if n:
            body[0] = 2
        seqs.append(body.tolist())
    form = draw(st.sampled_from(FORMS))
    id_dtype = draw(st.sampled_from([np.int64, np.int32]))
    special = [[int(y in (0, 1, 2, 3) or rng.random() < 0.02) for y in s] for s in seqs]
    starts = [(rng.random(len(s)) < 0.6).astype(int).tolist() for s in seqs]
    types = [rng.integers(0, 3, size=len(s)).tolist() for s in seqs]
    call = {"epoch": draw(st.integers(0, 2 ** 32 - 1))}
    if draw(st.booleans()):
        call["sample_ids"] = rng.integers(0, 2 ** 48, size=n_rows, dtype=np.uint64).tolist()
    W = max(lens)
    # a padded 2-D input has its real tokens at the end opposite the padding side
    left_in = opts["padding_side"] == "left"

    def padded(rows, fill):
        out = np.full((n_rows, W), fill, dtype=id_dtype)
        for i, r in enumerate(rows):
            if r:
                if left_in:
                    out[i, W - len(r):] = r
                else:
                    out[i, :len(r)] = r
        return out

    use_special = draw(st.booleans())
    use_types = draw(st.booleans())
    if form == "2d" and len(set(lens)) > 1:
        form = "2d_lengths"
    if form in ("lists", "arrays"):
        ids = seqs if form == "lists" else [np.asarray(s, dtype=id_dtype) for s in seqs]
        side = lambda rows: rows  # noqa: E731
    elif form.startswith("2d"):
        ids = padded(seqs, pad_id)
        if form == "2d_lengths":
            call["lengths"] = lens
        elif form == "2d_attention":
            call["attention_mask"] = padded([[1] * n for n in lens], 0)
        side = lambda rows: padded(rows, 0)  # noqa: E731
    else:
        ids = np.asarray([y for s in seqs for y in s], dtype=id_dtype)
        call["offsets"] = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        side = lambda rows: np.asarray([y for r in rows for y in r], dtype=np.int64)  # noqa
    if use_special:
        call["special_tokens_mask"] = side(special)
    if use_types:
        call["token_type_ids"] = side(types)
    if whole_word:
        how = draw(st.sampled_from(BOUNDARIES))
        if how == "word_table":
            opts["word_table"] = rng.integers(0, 3, size=vocab, dtype=np.uint8).tobytes()
        if how in ("word_starts", "chinese_ref+word_starts"):
            call["word_starts"] = side(starts)
        if how in ("word_ids", "chinese_ref+word_ids"):
            call["word_ids"] = [_word_ids(f, sp) for f, sp in zip(starts, special)]
        if how == "offset_mapping":
            call["offset_mapping"] = [_offsets(f, sp) for f, sp in zip(starts, special)]
        if how.startswith("chinese_ref"):
            call["chinese_ref"] = [sorted(set(rng.integers(0, max(n, 1), size=n // 3).tolist()))
                                   if n else [] for n in lens]
    truth = {"seqs": seqs, "special": special if use_special else None, "lens": lens}
    return opts, ids, call, truth


def _same(c, r):
    assert set(c) == set(r)
    for k in c:
        assert c[k].dtype == r[k].dtype and c[k].shape == r[k].shape, k
        assert (c[k] == r[k]).all(), k


@settings(max_examples=500, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=wide_cases())
def test_c_and_reference_agree_on_wide_inputs(case):
    opts, ids, call, _ = case
    with mock.patch.object(_api, "_TOKENS_PER_THREAD", 64):
        cm, rm = fastmask.Masker(**opts), reference.Masker(**opts)
        _same(cm(ids, **call), rm(ids, **call))
        if "sample_ids" not in call:
            # the running counters continue alike
            _same(cm(ids, **call), rm(ids, **call))
            assert cm.next_sample_id == rm.next_sample_id


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=wide_cases())
def test_c_and_reference_pad_alike(case):
    opts, ids, call, _ = case
    lay = {k: opts[k] for k in ("pad_token_id", "padding", "max_length", "truncation",
                                "pad_to_multiple_of", "padding_side", "dtype") if k in opts}
    kw = {k: call[k] for k in ("lengths", "attention_mask", "offsets", "special_tokens_mask",
                               "token_type_ids") if k in call}
    _same(fastmask.pad(ids, vocab_size=opts["vocab_size"], **lay, **kw),
          reference.pad(ids, vocab_size=opts["vocab_size"], **lay, **kw))


# ---------------------------------------------------------------------------------------------
# Word starts from untidy side inputs: word ids that repeat across None and go back, negative
# ids, offsets with (0, 0) specials anywhere, zero-width, overlapping and restarting spans, and
# vocabulary tables; the C core's rules (csrc/words.c) against the reference's own.


@st.composite
def untidy_word_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    n_rows = draw(st.integers(1, 6))
    lens = rng.integers(0, draw(st.sampled_from([8, 80, 300])) + 1, size=n_rows).tolist()
    seqs = [rng.integers(5, 1000, size=n).tolist() for n in lens]
    how = draw(st.sampled_from(["word_ids", "offset_mapping", "word_table"]))
    opts = dict(vocab_size=1000, mask_token_id=4, pad_token_id=0, special_ids=[0, 1, 2, 3],
                mlm_probability=draw(st.sampled_from([0.15, 0.5, 0.9])), whole_word=True,
                selection=draw(st.sampled_from(["bernoulli", "exact", "span"])),
                seed=draw(st.integers(0, 2 ** 64 - 1)),
                padding_side=draw(st.sampled_from(["right", "left"])))
    if draw(st.booleans()):
        opts.update(max_length=draw(st.sampled_from([1, 5, 64, 200])), truncation=True)
    call = {"epoch": draw(st.integers(0, 2 ** 32 - 1))}
    if how == "word_ids":
        call["word_ids"] = [[None if x < 0 and rng.random() < 0.5 else int(x)
                             for x in rng.integers(-2, 4, size=n)] for n in lens]
    elif how == "offset_mapping":
        rows = []
        for n in lens:
            row = []
            for _ in range(n):
                if rng.random() < 0.15:
                    row.append((0, 0))
                else:
                    s = int(rng.integers(0, 12))
                    row.append((s, s + int(rng.integers(0, 3))))
            rows.append(row)
        call["offset_mapping"] = rows
    else:
        opts["word_table"] = rng.integers(0, 3, size=1000, dtype=np.uint8).tobytes()
    return opts, seqs, call


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=untidy_word_cases())
def test_c_and_reference_agree_on_untidy_word_boundaries(case):
    opts, seqs, call = case
    _same(fastmask.Masker(**opts)(seqs, **call), reference.Masker(**opts)(seqs, **call))
