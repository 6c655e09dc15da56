"""The C core and the pure-Python reference agree bit for bit on random inputs and options."""

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


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
