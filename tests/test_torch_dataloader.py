"""Reproducible masks through a real torch DataLoader: workers, persistent workers, resumption,
DistributedSampler ranks, and the stream of examples without sample ids."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import CLS, MASK, PAD, SEP, SPECIALS, VOCAB
from torch.utils.data import BatchSampler, DataLoader, DistributedSampler, RandomSampler

from fastmask.torch import EpochSampler, IndexedDataset, MLMCollator

N_EXAMPLES = 96
BATCH = 8


def corpus(n=N_EXAMPLES, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        m = int(rng.integers(4, 48))
        out.append({"input_ids": [CLS] + rng.integers(5, VOCAB, size=m).tolist() + [SEP]})
    return out


def same_corpus(n=N_EXAMPLES, length=120):
    """Identical sequences: any two masks that agree come from the same stream."""
    return [[CLS] + list(range(10, 10 + length)) + [SEP] for _ in range(n)]


def collator(**kw):
    opts = dict(pad_token_id=PAD, special_ids=SPECIALS, seed=99)
    opts.update(kw)
    return MLMCollator(VOCAB, MASK, **opts)


def order_sampler(n=N_EXAMPLES, seed=7):
    g = torch.Generator().manual_seed(seed)
    return RandomSampler(range(n), generator=g)


def run_epochs(loader, epochs, set_epoch=()):
    """Batches of each epoch, as lists of numpy dicts; calls set_epoch on the given targets."""
    out = []
    for e in epochs:
        for t in set_epoch:
            t.set_epoch(e)
        out.append([{k: v.numpy().copy() for k, v in b.items()} for b in loader])
    return out


def assert_same_batches(a, b):
    assert len(a) == len(b)
    for ea, eb in zip(a, b):
        assert len(ea) == len(eb)
        for ba, bb in zip(ea, eb):
            assert ba.keys() == bb.keys()
            for k in ba:
                np.testing.assert_array_equal(ba[k], bb[k])


def masks_by_sample(epoch_batches, sids_of):
    """{(epoch, sample id): (input_ids row, labels row)} trimmed to the real tokens."""
    out = {}
    for e, batches in enumerate(epoch_batches):
        for b, sids in zip(batches, sids_of[e]):
            for r, sid in enumerate(sids):
                n = int(b["attention_mask"][r].sum())
                out[(e, sid)] = (tuple(b["input_ids"][r, :n]), tuple(b["labels"][r, :n]))
    return out


# ---------------------------------------------------------------------------------------------
# identical batches for any worker setup


@pytest.mark.parametrize("workers,persistent", [(2, False), (2, True)])
def test_workers_give_the_batches_of_the_main_process(workers, persistent):
    """Epoch via EpochSampler pairs: no shared state at all."""
    data = IndexedDataset(corpus())

    def loader(nw, pers):
        sampler = EpochSampler(order_sampler())
        dl = DataLoader(data, batch_size=BATCH, sampler=sampler, collate_fn=collator(),
                        num_workers=nw, persistent_workers=pers)
        return dl, sampler

    dl0, s0 = loader(0, False)
    want = run_epochs(dl0, range(3), [s0])
    dl, s = loader(workers, persistent)
    got = run_epochs(dl, range(3), [s])
    assert_same_batches(got, want)
    # the epochs really differ
    assert not np.array_equal(want[0][0]["labels"], want[1][0]["labels"]) or \
        not np.array_equal(want[0][0]["input_ids"], want[1][0]["input_ids"])


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_set_epoch_reaches_persistent_workers(context):
    """Epoch via collator.set_epoch: the shared-memory cell reaches workers started once."""
    data = IndexedDataset(corpus(48))

    def loader(nw):
        c = collator()
        kw = dict(num_workers=nw)
        if nw:
            kw.update(persistent_workers=True, multiprocessing_context=context)
        sampler = torch.utils.data.SequentialSampler(data)
        return DataLoader(data, batch_size=BATCH, sampler=sampler, collate_fn=c, **kw), c

    dl0, c0 = loader(0)
    want = run_epochs(dl0, range(3), [c0])
    dl, c = loader(2)
    got = run_epochs(dl, range(3), [c])
    assert_same_batches(got, want)
    # and the epochs gave different masks
    assert any(not np.array_equal(a["labels"], b["labels"]) for a, b in zip(want[0], want[1]))


def test_batch_sampler_and_int32_through_workers():
    data = IndexedDataset(corpus())
    bs = EpochSampler(BatchSampler(order_sampler(), BATCH, drop_last=False))
    dl = DataLoader(data, batch_sampler=bs, collate_fn=collator(dtype="int32"), num_workers=2)
    got = run_epochs(dl, range(2), [bs])
    bs0 = EpochSampler(BatchSampler(order_sampler(), BATCH, drop_last=False))
    dl0 = DataLoader(data, batch_sampler=bs0, collate_fn=collator(), num_workers=0)
    want = run_epochs(dl0, range(2), [bs0])
    assert got[0][0]["input_ids"].dtype == np.int32
    for e in range(2):
        for a, b in zip(got[e], want[e]):
            for k in a:
                np.testing.assert_array_equal(a[k].astype(np.int64), b[k])


# ---------------------------------------------------------------------------------------------
# resumption


@pytest.mark.parametrize("workers", [0, 2])
def test_resumed_run_reproduces_the_uninterrupted_masks(workers):
    data = IndexedDataset(corpus())
    # uninterrupted: epochs 0 and 1
    s = EpochSampler(order_sampler(seed=3))
    full = run_epochs(DataLoader(data, batch_size=BATCH, sampler=s, collate_fn=collator(),
                                 num_workers=workers), range(2), [s])
    # a fresh process resumes epoch 1 after 5 batches: new collator, new loader, same seeds
    done = 5
    s2 = EpochSampler(order_sampler(seed=3))
    # the shuffle of epoch 1 is the generator's second draw: replay epoch 0's draw first
    list(iter(s2.sampler))
    s2.set_epoch(1, start=done * BATCH)
    c2 = collator()
    resumed = [{k: v.numpy().copy() for k, v in b.items()}
               for b in DataLoader(data, batch_size=BATCH, sampler=s2, collate_fn=c2,
                                   num_workers=workers)]
    assert_same_batches([resumed], [full[1][done:]])


# ---------------------------------------------------------------------------------------------
# distributed ranks


def test_distributed_ranks_mask_a_sample_identically_and_never_share_streams():
    # identical sequences: masks differ only through the stream key
    n = 45  # not a multiple of 2: DistributedSampler repeats a sample on the second rank
    data = IndexedDataset([{"input_ids": s} for s in same_corpus(n)])
    seen = {}
    for rank in range(2):
        ds = DistributedSampler(data, num_replicas=2, rank=rank, shuffle=True, seed=5)
        es = EpochSampler(ds)
        c = collator(rank=rank)
        for e in range(2):
            es.set_epoch(e)
            order = [i for _, i in es]
            sids = [order[k:k + BATCH] for k in range(0, len(order), BATCH)]
            batches = [{k: v.numpy() for k, v in b.items()}
                       for b in DataLoader(data, batch_size=BATCH, sampler=es, collate_fn=c)]
            for (key, val) in masks_by_sample([batches], [sids]).items():
                seen.setdefault((e, key[1]), []).append(val)
    repeated = [k for k, v in seen.items() if len(v) > 1]
    assert repeated, "the padded DistributedSampler should repeat a sample across ranks"
    for k in repeated:  # the same sample id is masked identically on both ranks
        assert all(v == seen[k][0] for v in seen[k])
    distinct = {v[0][1] for v in seen.values()}
    assert len(distinct) == len(seen), "two sample ids (or epochs) shared a mask"


# ---------------------------------------------------------------------------------------------
# examples without sample ids


def fallback_rows(loader, epochs, set_epoch=()):
    rows = []
    for e in epochs:
        for t in set_epoch:
            t.set_epoch(e)
        for b in loader:
            rows.extend(tuple(r) for r in b["labels"].tolist())
    return rows


@pytest.mark.parametrize("workers,persistent,use_set_epoch", [
    (0, False, False), (2, False, False), (2, True, False), (2, False, True), (2, True, True)])
def test_fallback_never_repeats_a_stream(workers, persistent, use_set_epoch):
    data = same_corpus(64)
    c = collator()
    dl = DataLoader(data, batch_size=BATCH, collate_fn=c, num_workers=workers,
                    persistent_workers=persistent)
    rows = fallback_rows(dl, range(3), [c] if use_set_epoch else [])
    assert len(rows) == 3 * 64
    assert len(set(rows)) == len(rows)


def test_fallback_streams_of_ranks_and_workers_are_disjoint():
    data = same_corpus(32)
    rows = []
    for rank in range(3):
        c = collator(rank=rank)
        for workers in (0, 2):
            dl = DataLoader(data, batch_size=BATCH, collate_fn=c, num_workers=workers)
            rows.extend(fallback_rows(dl, range(1)))
    assert len(set(rows)) == len(rows) == 3 * 2 * 32


def test_fallback_in_workers_is_reproducible_with_a_seeded_loader():
    data = same_corpus(32)

    def run():
        g = torch.Generator().manual_seed(11)
        dl = DataLoader(data, batch_size=BATCH, collate_fn=collator(), num_workers=2,
                        generator=g)
        return fallback_rows(dl, range(2))

    assert run() == run()
