"""The GIL is released around the kernels: concurrent calls give the serial results."""

import threading

import numpy as np
from conftest import MASK, SPECIALS, VOCAB, random_batch

import fastmask


def test_four_threads_match_serial():
    rng = np.random.default_rng(0)
    batches = [random_batch(rng, 64, 50, 300) for _ in range(8)]
    m = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=11)
    serial = [m(b, sample_ids=np.arange(64) + 64 * i) for i, b in enumerate(batches)]
    results = {}

    def work(t):
        for rep in range(5):
            for i, b in enumerate(batches):
                results[(t, rep, i)] = m(b, sample_ids=np.arange(64) + 64 * i)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 * 5 * 8
    for (_t, _rep, i), out in results.items():
        for k in out:
            assert (out[k] == serial[i][k]).all()


def test_num_threads_splits_batch_identically():
    # ~450k tokens: large enough that num_threads=4 really uses several threads
    rng = np.random.default_rng(1)
    batch = random_batch(rng, 3000, 0, 300)
    flat = np.concatenate([np.asarray(s, dtype=np.int64) for s in batch])
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in batch])])
    single = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=3)
    multi = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=3, num_threads=4)
    assert multi._threads_for(fastmask._rows.normalize_ids(batch, None, None, None,
                                                           False)[0]) > 1
    for args in ((batch,), (flat,)):
        kw = {"offsets": offsets} if len(args[0]) == len(flat) else {}
        one = single(*args, sample_ids=np.arange(3000), **kw)
        many = multi(*args, sample_ids=np.arange(3000), **kw)
        for k in one:
            assert (one[k] == many[k]).all()


def test_running_counter_is_thread_safe():
    m = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=3)
    batch = [[2, 10, 11, 3]] * 10

    def work():
        for _ in range(50):
            m(batch)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert m.next_sample_id == 4 * 50 * 10


_BIG = None


def _big_batch():
    """~450k tokens (3000 rows of 0..300): num_threads=3 really splits it."""
    global _BIG
    if _BIG is None:
        rng = np.random.default_rng(5)
        batch = random_batch(rng, 3000, 0, 300)
        starts = [(rng.random(len(s)) < 0.6).astype(np.uint8).tolist() for s in batch]
        _BIG = batch, starts
    return _BIG


import pytest  # noqa: E402


@pytest.mark.parametrize("opts, form", [
    ({"whole_word": True}, "lists"),
    ({"whole_word": True, "selection": "span"}, "lists"),
    ({"selection": "span"}, "ragged"),
    ({"selection": "exact", "max_predictions": 20}, "lists"),
    ({"padding_side": "left"}, "lists"),
    ({"padding_side": "left", "whole_word": True}, "ragged"),
    ({"dtype": "int32"}, "lists"),
    ({"dtype": "int32", "selection": "exact"}, "ragged"),
    ({}, "2d"),
    ({"padding_side": "left", "dtype": "int32"}, "2d"),
    ({"max_length": 200, "truncation": True, "pad_to_multiple_of": 64}, "lists"),
])
def test_threads_match_serial_for_every_option(opts, form):
    batch, starts = _big_batch()
    lens = [len(s) for s in batch]
    call = {"sample_ids": np.arange(len(batch))}
    if form == "lists":
        ids = batch
    elif form == "ragged":
        ids = np.concatenate([np.asarray(s, dtype=np.int32) for s in batch])
        call["offsets"] = np.concatenate([[0], np.cumsum(lens)])
    else:
        W = max(lens)
        left = opts.get("padding_side") == "left"
        ids = np.zeros((len(batch), W), dtype=np.int64)
        for i, s in enumerate(batch):
            if s:
                ids[i, W - len(s):] = s if left else 0
                if not left:
                    ids[i, :len(s)] = s
        call["lengths"] = lens
    if opts.get("whole_word"):
        call["word_starts"] = starts
    single = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=21, **opts)
    multi = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=21, num_threads=3, **opts)
    one = single(ids, **call)
    many = multi(ids, **call)
    assert multi._pool is not None, "the batch was not split over threads"
    assert set(one) == set(many)
    for k in one:
        assert one[k].dtype == many[k].dtype and (one[k] == many[k]).all(), k
