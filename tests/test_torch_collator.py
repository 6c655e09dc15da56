"""fastmask.torch.MLMCollator on its own: input forms, output layout, keys, epochs, errors.

Behaviour that depends on the masking kernel runs against the C core and the pure-Python
reference (``impl`` fixture, via a collator subclass that swaps the Masker class).
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from conftest import CLS, MASK, PAD, SEP, SPECIALS, VOCAB, random_batch

import fastmask
import fastmask.reference as reference
from fastmask.torch import (
    Batch,
    EpochCallback,
    EpochSampler,
    IndexedDataset,
    IndexedExample,
    MLMCollator,
)

FALLBACK_BASE = 1 << 47


class RefCollator(MLMCollator):
    """The collator on the pure-Python reference kernel."""

    _masker_class = reference.Masker


@pytest.fixture
def collator_cls(impl):
    return MLMCollator if impl is fastmask else RefCollator


def make(cls=MLMCollator, **kw):
    opts = dict(pad_token_id=PAD, special_ids=SPECIALS, seed=1234)
    opts.update(kw)
    return cls(VOCAB, MASK, **opts)


def masker(impl=fastmask, **kw):
    opts = dict(pad_token_id=PAD, special_ids=SPECIALS, seed=1234)
    opts.update(kw)
    return impl.Masker(VOCAB, MASK, **opts)


def batch_of(n=12, seed=0, lo=3, hi=40):
    return random_batch(np.random.default_rng(seed), n=n, lo=lo, hi=hi)


def as_dicts(seqs, **fields):
    out = []
    for i, s in enumerate(seqs):
        ex = {"input_ids": s}
        for k, v in fields.items():
            ex[k] = v(i, s) if callable(v) else v
        out.append(ex)
    return out


def np_out(batch):
    return {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}


# ---------------------------------------------------------------------------------------------
# input forms and output layout


@pytest.mark.parametrize("form", ["lists", "tuples", "tensors", "arrays", "int32 arrays",
                                  "dicts", "tensor dicts", "batched dict"])
def test_input_forms_give_the_same_batch(form):
    seqs = batch_of()
    sids = list(range(100, 100 + len(seqs)))
    want = masker()(seqs, sample_ids=sids)
    if form == "lists":
        examples = [list(s) for s in seqs]
    elif form == "tuples":
        examples = [tuple(s) for s in seqs]
    elif form == "tensors":
        examples = [torch.tensor(s) for s in seqs]
    elif form == "arrays":
        examples = [np.asarray(s, dtype=np.int64) for s in seqs]
    elif form == "int32 arrays":
        examples = [np.asarray(s, dtype=np.int32) for s in seqs]
    elif form == "dicts":
        examples = as_dicts(seqs, sample_id=lambda i, s: sids[i])
    elif form == "tensor dicts":
        examples = [{"input_ids": torch.tensor(s), "sample_id": torch.tensor(sids[i])}
                    for i, s in enumerate(seqs)]
    else:
        examples = {"input_ids": seqs, "sample_id": sids}
    c = make()
    if form in ("lists", "tuples", "tensors", "arrays", "int32 arrays"):
        # sequences carry no sample id: the main-process stream numbers them from 2**47
        want = masker()(seqs, sample_ids=np.arange(len(seqs)) + FALLBACK_BASE)
    got = c(examples)
    assert isinstance(got, Batch)
    assert set(got) == {"input_ids", "attention_mask", "labels"}
    for k in got:
        assert got[k].dtype == torch.int64
        np.testing.assert_array_equal(got[k].numpy(), want[k])


def test_collator_matches_masker_on_both_kernels(collator_cls, impl):
    seqs = batch_of(8, seed=3)
    sids = [5, 9, 2**40, 7, 0, 1, 123456789, 42]
    for epoch in (0, 3):
        c = make(collator_cls)
        c.set_epoch(epoch)
        got = np_out(c(as_dicts(seqs, sample_id=lambda i, s: sids[i])))
        want = masker(impl)(seqs, sample_ids=sids, epoch=epoch)
        for k in ("input_ids", "attention_mask", "labels"):
            np.testing.assert_array_equal(got[k], want[k])


def test_reference_and_c_collators_agree_on_every_option():
    seqs = batch_of(10, seed=8, lo=0, hi=30)
    for opts in (dict(), dict(selection="exact", max_predictions=4), dict(random_ids="all"),
                 dict(selection="span", span_lengths="albert"), dict(padding_side="left"),
                 dict(pad_to_multiple_of=8, dtype="int32")):
        examples = [{"input_ids": s, "word_ids": [j // 3 for j in range(len(s))],
                     "sample_id": 1000 + i} for i, s in enumerate(seqs)]
        a = np_out(make(MLMCollator, whole_word=True, **opts)(examples))
        b = np_out(make(RefCollator, whole_word=True, **opts)(examples))
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{k} with {opts}")


def test_return_tensors_np_and_per_call_override():
    seqs = batch_of()
    c = make(return_tensors="np")
    a = c(as_dicts(seqs, sample_id=lambda i, s: i))
    assert type(a) is dict and all(isinstance(v, np.ndarray) for v in a.values())
    b = c(as_dicts(seqs, sample_id=lambda i, s: i), return_tensors="pt")
    assert all(isinstance(v, torch.Tensor) for v in b.values())
    for k in a:
        np.testing.assert_array_equal(a[k], b[k].numpy())
    with pytest.raises(ValueError, match="return_tensors"):
        c(seqs, return_tensors="tf")
    with pytest.raises(ValueError, match="return_tensors"):
        make(return_tensors="jax")


def test_output_tensors_share_one_block_and_int32_option():
    seqs = batch_of()
    b = make()(seqs)
    # zero copy: the tensors are views of the arrays the core wrote
    assert b["input_ids"].untyped_storage().data_ptr() == b["labels"].untyped_storage().data_ptr()
    b32 = make(dtype="int32")(as_dicts(seqs, token_type_ids=lambda i, s: [0] * len(s)))
    assert {v.dtype for v in b32.values()} == {torch.int32}
    b64 = make()(as_dicts(seqs, token_type_ids=lambda i, s: [0] * len(s)))
    assert b32["input_ids"].shape == b64["input_ids"].shape


def test_padding_options_pass_through():
    seqs = batch_of(6, lo=3, hi=21)
    longest = max(map(len, seqs))
    b = make(pad_to_multiple_of=8)(seqs)
    assert b["input_ids"].shape[1] == -(-longest // 8) * 8
    b = make(padding="max_length", max_length=48)(seqs)
    assert b["input_ids"].shape == (6, 48)
    b = make(max_length=10, truncation=True)(seqs)
    assert b["input_ids"].shape[1] == 10
    left = make(padding_side="left")(seqs)
    n = len(seqs[0])
    assert left["attention_mask"][0, -n:].all() and not left["attention_mask"][0, :-n].any()


def test_token_type_ids_are_padded_and_returned():
    seqs = batch_of(5)
    ex = as_dicts(seqs, token_type_ids=lambda i, s: [j % 2 for j in range(len(s))])
    b = make()(ex)
    L = b["input_ids"].shape[1]
    for i, s in enumerate(seqs):
        want = [j % 2 for j in range(len(s))] + [0] * (L - len(s))
        assert b["token_type_ids"][i].tolist() == want


def test_special_tokens_mask_is_honoured_and_not_returned():
    seqs = [[CLS] + list(range(10, 60)) + [SEP] for _ in range(40)]
    # mark every second ordinary token as special: it must never be picked
    stm = [[1] + [j % 2 for j in range(50)] + [1] for _ in seqs]
    b = make(mlm_probability=0.5)(as_dicts(seqs, special_tokens_mask=lambda i, s: stm[i]))
    assert "special_tokens_mask" not in b
    picked = (b["labels"] != -100).numpy()
    assert picked.any()
    assert not (picked & (np.asarray(stm) == 1)).any()


def test_labels_in_examples_are_recomputed():
    seqs = batch_of(4)
    ex = as_dicts(seqs, labels=lambda i, s: [7] * (i + 1), sample_id=lambda i, s: i)
    b = make()(ex)
    want = make()(as_dicts(seqs, sample_id=lambda i, s: i))
    assert torch.equal(b["labels"], want["labels"])


def test_extra_fields_are_stacked_like_hugging_face():
    seqs = batch_of(4)
    ex = as_dicts(seqs, length=lambda i, s: len(s), score=lambda i, s: 0.5 * i,
                  vec=lambda i, s: [i, i + 1], arr=lambda i, s: np.full(3, i, dtype=np.int16),
                  t=lambda i, s: torch.ones(2) * i)
    b = make()(ex)
    assert b["length"].tolist() == [len(s) for s in seqs] and b["length"].dtype == torch.int64
    assert b["score"].dtype == torch.float32
    assert b["vec"].shape == (4, 2)
    assert b["arr"].dtype == torch.int16 and b["arr"].shape == (4, 3)
    assert b["t"].shape == (4, 2)
    n = make(return_tensors="np")(ex)
    assert isinstance(n["length"], np.ndarray) and isinstance(n["t"], np.ndarray)


@pytest.mark.parametrize("field,value,message", [
    ("text", lambda i, s: "hello", r"'text'.*examples\[0\]"),
    ("ragged", lambda i, s: list(range(i + 1)), r"examples\[1\]\['ragged'\]"),
    ("maybe", lambda i, s: None, r"'maybe'"),
    ("tt", lambda i, s: torch.zeros(i + 1), r"examples\[1\]\['tt'\]"),
])
def test_extra_fields_that_do_not_stack_raise(field, value, message):
    with pytest.raises(ValueError, match=message):
        make()(as_dicts(batch_of(3), **{field: value}))


def test_word_fields_are_dropped_without_whole_word():
    seqs = batch_of(3)
    ex = as_dicts(seqs, word_ids=lambda i, s: list(range(len(s))),
                  offset_mapping=lambda i, s: [(j, j + 1) for j in range(len(s))],
                  sample_id=lambda i, s: i)
    b = make()(ex)
    assert set(b) == {"input_ids", "attention_mask", "labels"}


def test_whole_word_from_word_ids_picks_whole_words(collator_cls):
    seqs = [[CLS] + list(range(10, 70)) + [SEP] for _ in range(30)]
    word_ids = [[None] + [j // 4 for j in range(60)] + [None] for _ in seqs]
    c = make(collator_cls, whole_word=True, mlm_probability=0.3)
    b = c(as_dicts(seqs, word_ids=lambda i, s: word_ids[i], sample_id=lambda i, s: i))
    picked = (b["labels"] != -100).numpy()[:, 1:61].reshape(30, 15, 4)
    assert picked.any()
    # every word (4 tokens) is picked entirely or not at all
    assert ((picked.sum(axis=2) == 0) | (picked.sum(axis=2) == 4)).all()


def test_pre_padded_examples_keep_their_attention_mask():
    seqs = batch_of(6, lo=5, hi=20)
    width = 24
    ex = []
    for i, s in enumerate(seqs):
        n = len(s)
        ex.append({"input_ids": list(s) + [PAD] * (width - n),
                   "attention_mask": [1] * n + [0] * (width - n), "sample_id": i})
    b = make(mlm_probability=0.6)(ex)
    assert b["input_ids"].shape == (6, width)
    for i, s in enumerate(seqs):
        n = len(s)
        assert b["attention_mask"][i].tolist() == [1] * n + [0] * (width - n)
    assert not (b["labels"].numpy()[b["attention_mask"].numpy() == 0] != -100).any()


def test_all_ones_attention_masks_are_not_copied():
    seqs = batch_of(4)
    ex = as_dicts(seqs, attention_mask=lambda i, s: [1] * len(s), sample_id=lambda i, s: i)
    a = make()(ex)
    b = make()(as_dicts(seqs, sample_id=lambda i, s: i))
    for k in b:
        assert torch.equal(a[k], b[k])


# ---------------------------------------------------------------------------------------------
# epochs, sample ids, static masking


def test_epoch_field_overrides_set_epoch_and_mixed_epochs_are_exact(collator_cls, impl):
    seqs = batch_of(9, seed=4)
    epochs = [0, 2, 0, 5, 2, 2, 0, 1, 5]
    c = make(collator_cls)
    c.set_epoch(7)
    got = np_out(c(as_dicts(seqs, sample_id=lambda i, s: 50 + i,
                            epoch=lambda i, s: epochs[i])))
    m = masker(impl)
    L = got["input_ids"].shape[1]
    for i, s in enumerate(seqs):
        want = m([s], sample_ids=[50 + i], epoch=epochs[i])
        n = len(s)
        np.testing.assert_array_equal(got["input_ids"][i, :n], want["input_ids"][0, :n])
        np.testing.assert_array_equal(got["labels"][i, :n], want["labels"][0, :n])
        assert (got["labels"][i, n:L] == -100).all()


def test_set_epoch_changes_masks_and_is_read_back():
    seqs = [[CLS] + list(range(10, 200)) + [SEP]] * 4
    c = make()
    ex = as_dicts(seqs, sample_id=lambda i, s: i)
    a = c(ex)
    c.set_epoch(1)
    assert c.epoch == 1
    b = c(ex)
    assert not torch.equal(a["labels"], b["labels"])
    c.set_epoch(0)
    assert torch.equal(c(ex)["labels"], a["labels"])
    with pytest.raises(ValueError, match="epoch"):
        c.set_epoch(-1)
    with pytest.raises(TypeError, match="epoch"):
        c.set_epoch(1.5)


def test_dupe_factor_gives_k_fixed_masks():
    seqs = [[CLS] + list(range(10, 300)) + [SEP]] * 3
    ex = as_dicts(seqs, sample_id=lambda i, s: 10 + i)
    c = make(dupe_factor=4)
    masks = []
    for e in range(9):
        c.set_epoch(e)
        masks.append(c(ex)["labels"])
    for e in range(9):
        for f in range(9):
            same = torch.equal(masks[e], masks[f])
            assert same == (e % 4 == f % 4), (e, f)
    # the static masks are the dynamic masks of epochs 0..k-1
    plain = make()
    plain.set_epoch(2)
    assert torch.equal(plain(ex)["labels"], masks[6])
    with pytest.raises(ValueError, match="dupe_factor needs a sample id"):
        c(seqs)
    with pytest.raises(ValueError, match="dupe_factor"):
        make(dupe_factor=0)


def test_fallback_stream_continues_across_calls():
    seqs = batch_of(5)
    c = make()
    a = c(seqs)
    b = c(seqs)
    m = masker()
    want_a = m(seqs, sample_ids=FALLBACK_BASE + np.arange(5))
    want_b = m(seqs, sample_ids=FALLBACK_BASE + 5 + np.arange(5))
    np.testing.assert_array_equal(a["labels"].numpy(), want_a["labels"])
    np.testing.assert_array_equal(b["labels"].numpy(), want_b["labels"])


def test_fallback_streams_of_ranks_differ():
    seqs = [[CLS] + list(range(10, 400)) + [SEP]] * 8
    labels = [make(rank=r)(seqs)["labels"] for r in range(4)]
    rows = {tuple(row.tolist()) for lab in labels for row in lab}
    assert len(rows) == 32
    # rank 0 is the plain seed; other ranks use seed XOR rank << 48
    m = fastmask.Masker(VOCAB, MASK, pad_token_id=PAD, special_ids=SPECIALS,
                        seed=1234 ^ (3 << 48))
    want = m(seqs, sample_ids=FALLBACK_BASE + np.arange(8))
    np.testing.assert_array_equal(labels[3].numpy(), want["labels"])
    with pytest.raises(ValueError, match="rank"):
        make(rank=1 << 16)


def test_sample_ids_from_a_custom_field_name():
    seqs = batch_of(4)
    c = make(sample_id_key="idx", epoch_key="ep")
    got = c(as_dicts(seqs, idx=lambda i, s: 3 * i, ep=1))
    want = masker()(seqs, sample_ids=[0, 3, 6, 9], epoch=1)
    np.testing.assert_array_equal(got["labels"].numpy(), want["labels"])
    assert "idx" not in got and "ep" not in got
    with pytest.raises(ValueError, match="differ"):
        make(sample_id_key="x", epoch_key="x")


# ---------------------------------------------------------------------------------------------
# causal-LM labels and the padding-free layout


def test_mlm_false_gives_causal_labels():
    seqs = batch_of(6, lo=1)
    seqs[0] = [CLS, 10, PAD, 11, SEP]  # a real token equal to the pad id stays a label
    c = MLMCollator(VOCAB, pad_token_id=PAD, mlm=False)
    b = c(as_dicts(seqs, token_type_ids=lambda i, s: [1] * len(s)))
    ids, lab, att = b["input_ids"], b["labels"], b["attention_mask"]
    assert set(b) == {"input_ids", "attention_mask", "labels", "token_type_ids"}
    assert torch.equal(lab[att == 1], ids[att == 1])
    assert (lab[att == 0] == -100).all()
    assert lab[0].tolist()[:5] == [CLS, 10, PAD, 11, SEP]
    assert (b["token_type_ids"][att == 0] == 0).all()
    with pytest.raises(ValueError, match="mlm=False"):
        MLMCollator(VOCAB, mlm=False, whole_word=True)
    with pytest.raises(ValueError, match="mask_token_id"):
        MLMCollator(VOCAB)


@pytest.mark.parametrize("mlm", [True, False])
def test_flatten_matches_the_padded_layout(mlm):
    seqs = batch_of(7, seed=5, lo=0, hi=30)
    ex = as_dicts(seqs, sample_id=lambda i, s: i,
                  token_type_ids=lambda i, s: [j % 2 for j in range(len(s))])
    kw = dict() if mlm else dict(mlm=False)
    padded = make(**kw)(ex) if mlm else MLMCollator(VOCAB, pad_token_id=PAD, mlm=False)(ex)
    flat = (make(flatten=True, position_ids_start=2)(ex) if mlm else
            MLMCollator(VOCAB, pad_token_id=PAD, mlm=False, flatten=True,
                        position_ids_start=2)(ex))
    lens = [len(s) for s in seqs]
    total = sum(lens)
    assert set(flat) == {"input_ids", "labels", "position_ids", "token_type_ids",
                         "cu_seq_lens_q", "cu_seq_lens_k", "max_length_q", "max_length_k"}
    assert flat["input_ids"].shape == (1, total)
    assert flat["cu_seq_lens_q"].dtype == torch.int32
    assert flat["cu_seq_lens_q"].tolist() == np.concatenate([[0], np.cumsum(lens)]).tolist()
    assert torch.equal(flat["cu_seq_lens_q"], flat["cu_seq_lens_k"])
    assert flat["max_length_q"] == flat["max_length_k"] == max(lens)
    keep = padded["attention_mask"].bool()
    assert torch.equal(flat["input_ids"][0], padded["input_ids"][keep])
    assert torch.equal(flat["token_type_ids"][0], padded["token_type_ids"][keep])
    assert flat["position_ids"][0].tolist() == [2 + j for n in lens for j in range(n)]
    want_labels = padded["labels"][keep]
    if not mlm:  # no prediction across a sequence boundary (Hugging Face's separator rule)
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])[np.asarray(lens) > 0]
        want_labels[starts] = -100
    assert torch.equal(flat["labels"][0], want_labels)
    with pytest.raises(ValueError, match="flatten"):
        make(flatten=True, pad_to_multiple_of=8)


# ---------------------------------------------------------------------------------------------
# pickling, copies, Batch


def test_pickle_and_deepcopy_keep_the_configuration():
    seqs = batch_of(6)
    ex = as_dicts(seqs, sample_id=lambda i, s: i)
    c = make(whole_word=True, word_table=[f"w{i}" if i % 3 else f"##w{i}"
                                          for i in range(VOCAB)])
    c.set_epoch(3)
    want = c(ex)
    for clone in (pickle.loads(pickle.dumps(c)), copy.deepcopy(c)):
        assert clone.epoch == 3
        got = clone(ex)
        for k in want:
            assert torch.equal(got[k], want[k])
        clone.set_epoch(4)  # an ordinary copy is independent of the original
        assert c.epoch == 3


def test_batch_to_moves_every_tensor():
    b = make()(batch_of(3))
    moved = b.to(torch.float64)
    assert isinstance(moved, Batch) and all(v.dtype == torch.float64 for v in moved.values())
    assert b["input_ids"].dtype == torch.int64


# ---------------------------------------------------------------------------------------------
# from_tokenizer, duck-typed


class FakeTokenizer:
    """The slice of a Hugging Face tokenizer that from_tokenizer reads."""

    def __init__(self, mask=MASK, pad=PAD, side="right"):
        self.mask_token_id = mask
        self.pad_token_id = pad
        self.all_special_ids = [PAD, UNK_ID, CLS, SEP, MASK, 5000]  # an id beyond the vocab
        self.padding_side = side
        self.vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}
        for i in range(5, VOCAB):
            self.vocab[f"##p{i}" if i % 2 else f"w{i}"] = i

    def __len__(self):
        return VOCAB

    def get_vocab(self):
        return dict(self.vocab)


UNK_ID = 1


def test_from_tokenizer_reads_the_tokenizer():
    c = MLMCollator.from_tokenizer(FakeTokenizer(side="left"), seed=5)
    assert c.vocab_size == VOCAB and c.mask_token_id == MASK and c.pad_token_id == PAD
    assert c._mode.masker.special_ids == tuple(sorted({PAD, UNK_ID, CLS, SEP, MASK}))
    assert c._mode.left
    seqs = batch_of(4)
    want = masker(padding_side="left", seed=5)(seqs, sample_ids=FALLBACK_BASE + np.arange(4))
    np.testing.assert_array_equal(c(seqs)["labels"].numpy(), want["labels"])


def test_from_tokenizer_whole_word_builds_the_table_from_get_vocab():
    tok = FakeTokenizer()
    c = MLMCollator.from_tokenizer(tok, whole_word_mask=True, mlm_probability=0.4, seed=2)
    assert c.whole_word
    # ids 5.. alternate word start (even) / continuation (odd): words are pairs (2k, 2k+1)
    seqs = [[CLS] + list(range(10, 110)) + [SEP] for _ in range(20)]
    picked = (c(seqs)["labels"] != -100).numpy()[:, 1:101].reshape(20, 50, 2)
    assert picked.any() and (picked[:, :, 0] == picked[:, :, 1]).all()
    assert "tokenizer" not in repr(c.__dict__)  # no tokenizer is kept (or sent to workers)
    with pytest.raises(TypeError, match="not both"):
        MLMCollator.from_tokenizer(tok, whole_word=True, whole_word_mask=True)
    # word_table=None: boundaries come from the examples only
    only_examples = MLMCollator.from_tokenizer(tok, whole_word=True, word_table=None, seed=2)
    with pytest.raises(ValueError, match="word boundaries"):
        only_examples(seqs)
    assert only_examples([{"input_ids": s, "word_ids": list(range(len(s)))} for s in seqs])


def test_from_tokenizer_errors_name_the_missing_token():
    with pytest.raises(ValueError, match="mask_token_id"):
        MLMCollator.from_tokenizer(FakeTokenizer(mask=None))
    with pytest.raises(ValueError, match="pad_token"):
        MLMCollator.from_tokenizer(FakeTokenizer(pad=None))
    c = MLMCollator.from_tokenizer(FakeTokenizer(mask=None), mlm=False)
    assert not c.mlm
    c = MLMCollator.from_tokenizer(FakeTokenizer(pad=None), pad_token_id=SEP, seed=1)
    assert c.pad_token_id == SEP
    with pytest.raises(TypeError, match="from_tokenizer"):
        MLMCollator(VOCAB, MASK, tokenizer=FakeTokenizer())


# ---------------------------------------------------------------------------------------------
# errors name the argument, the example and the position


@pytest.mark.parametrize("examples,exc,message", [
    ("abc", TypeError, "examples must be"),
    ([{"ids": [1, 2]}], ValueError, r"examples\[0\] has no 'input_ids'"),
    ([{"input_ids": [5, 6]}, {"input_ids": [5], "x": 1}, {"ids": [5]}], ValueError,
     r"examples\[2\] has no 'input_ids'"),
    ([{"input_ids": [5, 6]}, [5, 6]], TypeError, r"examples\[1\]"),
    ([{"input_ids": [5]}, {"input_ids": [5], "sample_id": 3}], ValueError,
     r"examples\[1\] has the fields \['sample_id'\]"),
    ([[5, 6], {"input_ids": [5, 6]}], TypeError, r"examples\[1\]"),
    ([[5, 6], [7, VOCAB + 3]], ValueError, r"input_ids\[1\]\[1\]"),
    ([[5, 6], [7, -1, 8]], ValueError, r"input_ids\[1\]\[1\]"),
    ([[5, 6], [7, "x"]], TypeError, r"input_ids\[1\]\[1\]"),
    ([{"input_ids": [5], "sample_id": 1}, {"input_ids": [5], "sample_id": -2}], ValueError,
     r"examples\[1\]\['sample_id'\] = -2"),
    ([{"input_ids": [5], "sample_id": 2 ** 48}], ValueError, r"examples\[0\]\['sample_id'\]"),
    ([{"input_ids": [5], "sample_id": "a"}], TypeError, r"examples\[0\]\['sample_id'\]"),
    ([{"input_ids": [5], "sample_id": True}], TypeError, r"examples\[0\]\['sample_id'\]"),
    ([{"input_ids": [5], "epoch": 2 ** 32}], ValueError, r"examples\[0\]\['epoch'\]"),
    ([{"input_ids": [5, 6], "special_tokens_mask": [0]}], ValueError,
     r"special_tokens_mask\[0\]"),
    ([{"input_ids": [5, 6], "token_type_ids": [0, 1, 0]}], ValueError, r"token_type_ids\[0\]"),
    ([{"input_ids": [5, 6], "attention_mask": [1, 0, 0]}], ValueError, r"attention_mask\[0\]"),
    ([{"input_ids": [5, 6], "attention_mask": [2, 0]}], ValueError,
     r"attention_mask\[0\]\[0\] = 2"),
    ({"input_ids": [[5], [6]], "sample_id": [1]}, ValueError, r"examples\['sample_id'\]"),
])
def test_bad_input_is_named(examples, exc, message):
    with pytest.raises(exc, match=message):
        make()(examples)


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="mlm_probability"):
        make(mlm_probability=1.5)
    with pytest.raises(TypeError, match="mlm must be"):
        make(mlm="yes")
    with pytest.raises(TypeError, match="flatten"):
        make(flatten=1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        make(no_such_option=1)


# ---------------------------------------------------------------------------------------------
# dataset and sampler wrappers, callback


def test_indexed_dataset_attaches_ids_and_epochs():
    base = [{"input_ids": [CLS, 10 + i, SEP], "text": "t"} for i in range(5)]
    ds = IndexedDataset(base, offset=100)
    assert len(ds) == 5
    ex = ds[2]
    assert isinstance(ex, IndexedExample) and not isinstance(ex, dict)
    assert dict(ex) == {"input_ids": [CLS, 12, SEP], "text": "t", "sample_id": 102}
    assert ds[(3, 4)]["epoch"] == 3 and ds[(3, 4)]["sample_id"] == 104
    assert ds[-1]["sample_id"] == 104
    assert ds.__getitems__([(1, 0), (1, 2)])[1]["sample_id"] == 102
    assert "text" not in IndexedDataset(base, columns=["input_ids"])[0]
    lists = IndexedDataset([[5, 6], [7]], sample_id_key="idx")
    assert dict(lists[1]) == {"input_ids": [7], "idx": 1}
    assert pickle.loads(pickle.dumps(ex)) == ex
    assert ex.copy() == dict(ex)
    with pytest.raises(IndexError):
        ds[-6]
    with pytest.raises(TypeError):
        ds["a"]
    with pytest.raises(IndexError):
        ds[(1, 2, 3)]


def test_indexed_dataset_uses_getitems_of_the_wrapped_dataset():
    calls = []

    class Batched(torch.utils.data.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return {"input_ids": [5 + i]}

        def __getitems__(self, keys):
            calls.append(list(keys))
            return [{"input_ids": [5 + i]} for i in keys]

    got = IndexedDataset(Batched()).__getitems__([(0, 3), (0, 1)])
    assert calls == [[3, 1]] and [g["sample_id"] for g in got] == [3, 1]


def test_epoch_sampler_pairs_forwarding_and_resume():
    class Inner:
        epoch = None

        def set_epoch(self, e):
            self.epoch = e

        def __iter__(self):
            return iter([4, 2, 0, 3, 1])

        def __len__(self):
            return 5

    inner = Inner()
    s = EpochSampler(inner)
    assert list(s) == [(0, i) for i in (4, 2, 0, 3, 1)]
    s.set_epoch(2, start=3)
    assert inner.epoch == 2 and list(s) == [(2, 3), (2, 1)] and len(s) == 2
    bs = EpochSampler(torch.utils.data.BatchSampler(range(5), 2, False), epoch=1)
    assert list(bs) == [[(1, 0), (1, 1)], [(1, 2), (1, 3)], [(1, 4)]]


def test_epoch_callback_is_a_duck_typed_trainer_callback():
    c = make()
    s = EpochSampler(range(3))
    cb = EpochCallback(c, s)

    class State:
        epoch = 2.9999999999

    cb.on_epoch_begin(None, State(), None)
    assert c.epoch == 3 and s.epoch == 3
    State.epoch = 1.5  # resumed in the middle of epoch 1
    cb.on_train_begin(None, State(), None)
    assert c.epoch == 1
    assert cb.on_step_end(None, State(), None, model=None) is None
    with pytest.raises(AttributeError):
        cb.not_an_event  # noqa: B018  (the attribute access is what raises)
    with pytest.raises(TypeError):
        EpochCallback(object())
