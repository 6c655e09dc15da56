"""Real training runs with the collator: a tiny, randomly initialised BERT learns from the Python
documentation (tokenizer trained locally) with Hugging Face's Trainer and with a plain torch
loop over a multi-worker DataLoader; a Trainer run resumed from a checkpoint sees exactly the
masks of the uninterrupted run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")  # needed by transformers.Trainer
datasets = pytest.importorskip("datasets")

from test_torch_helpers import grouped_blocks, wordpiece_tokenizer  # noqa: E402

from fastmask.torch import EpochCallback, EpochSampler, IndexedDataset, MLMCollator  # noqa: E402

transformers.logging.set_verbosity_error()
SEQ = 64


@pytest.fixture(scope="module")
def tok():
    return wordpiece_tokenizer()


@pytest.fixture(autouse=True)
def one_thread():
    """A tiny model gains nothing from intra-op threads, and on a 2-core machine shared with
    DataLoader workers they only contend."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def blocks(tok):
    return grouped_blocks(tok, SEQ, 1600)


def tiny_bert(tok, seed=0):
    torch.manual_seed(seed)
    config = transformers.BertConfig(
        vocab_size=len(tok), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=128, max_position_embeddings=SEQ, type_vocab_size=2,
        pad_token_id=tok.pad_token_id)
    return transformers.BertForMaskedLM(config)


def hf_dataset(tok, blocks):
    """Columns as a tokenizer pipeline leaves them; Trainer drops special_tokens_mask itself."""
    rows = {"input_ids": blocks,
            "token_type_ids": [[0] * len(b) for b in blocks],
            "attention_mask": [[1] * len(b) for b in blocks],
            "special_tokens_mask": [[1] + [0] * (len(b) - 2) + [1] for b in blocks]}
    return datasets.Dataset.from_dict(rows)


def training_args(tmp_path, **kw):
    opts = dict(output_dir=str(tmp_path), per_device_train_batch_size=16, learning_rate=1e-3,
                warmup_steps=0, weight_decay=0.0, logging_steps=10, save_strategy="no",
                report_to=[], disable_tqdm=True, use_cpu=True, seed=0,
                dataloader_num_workers=0)
    opts.update(kw)
    return transformers.TrainingArguments(**opts)


def test_trainer_trains_a_tiny_bert(tok, blocks, tmp_path):
    """Drop-in use: Trainer(data_collator=...) with default remove_unused_columns."""
    collator = MLMCollator.from_tokenizer(tok, seed=1)
    args = training_args(tmp_path, max_steps=100)
    assert args.remove_unused_columns
    trainer = transformers.Trainer(model=tiny_bert(tok), args=args,
                                   train_dataset=hf_dataset(tok, blocks),
                                   data_collator=collator)
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 10
    assert all(np.isfinite(losses))
    # from ~ln(2000) = 7.6 at random initialisation; the unigram distribution alone is ~6
    assert losses[-1] < losses[0] - 1.0, losses
    print("Trainer losses every 10 steps:", [round(x, 3) for x in losses])


def test_plain_loop_with_two_workers(tok, blocks):
    """A hand-written loop: DataLoader(num_workers=2), EpochSampler + IndexedDataset, int32
    batches widened to int64 after the transfer."""
    model = tiny_bert(tok)
    data = IndexedDataset([{"input_ids": b} for b in blocks])
    sampler = EpochSampler(torch.utils.data.RandomSampler(
        data, generator=torch.Generator().manual_seed(0)))
    collator = MLMCollator.from_tokenizer(tok, seed=2, dtype="int32")
    loader = torch.utils.data.DataLoader(data, batch_size=16, sampler=sampler,
                                         collate_fn=collator, num_workers=2,
                                         persistent_workers=True)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    step = 0
    model.train()
    for epoch in range(10):
        sampler.set_epoch(epoch)
        for batch in loader:
            assert batch["input_ids"].dtype == torch.int32
            batch = {k: v.long() for k, v in batch.items()}
            loss = model(**batch).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            step += 1
            if step == 100:
                break
        if step == 100:
            break
    assert step == 100
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) - 1.0, (losses[:10], losses[-10:])
    print(f"plain loop: mean loss of steps 1-10 {np.mean(losses[:10]):.3f}, "
          f"of steps 91-100 {np.mean(losses[-10:]):.3f}")


def varlen_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0,
                     cu_seq_lens_q=None, **kwargs):
    """A CPU stand-in for a variable-length attention kernel: every token attends only to the
    tokens of its own sequence, delimited by cu_seq_lens_q."""
    cu = cu_seq_lens_q.long()
    seq = torch.repeat_interleave(torch.arange(cu.numel() - 1), cu.diff())
    same = seq[:, None] == seq[None, :]
    out = torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=same,
                                                           scale=scaling, dropout_p=dropout)
    return out.transpose(1, 2).contiguous(), None


def test_padding_free_batches_give_the_padded_loss_and_gradients(tok, blocks):
    """flatten=True feeds a model through the flash-attention kwargs; with a varlen attention
    the logits, loss and gradients equal those of the padded batch."""
    transformers.AttentionInterface.register("fastmask_test_varlen", varlen_attention)
    padded_model = tiny_bert(tok)
    flat_model = tiny_bert(tok)
    flat_model.config._attn_implementation = "fastmask_test_varlen"
    flat_model.load_state_dict(padded_model.state_dict())
    padded_model.eval()  # no dropout: the two forward passes must be comparable
    flat_model.eval()
    rng = np.random.default_rng(0)
    examples = [{"input_ids": b[:int(rng.integers(8, SEQ + 1))], "sample_id": i}
                for i, b in enumerate(blocks[:12])]
    pad = MLMCollator.from_tokenizer(tok, seed=4)(examples)
    flat = MLMCollator.from_tokenizer(tok, seed=4, flatten=True)(examples)
    assert flat["input_ids"].shape[1] == sum(len(e["input_ids"]) for e in examples)
    a = padded_model(**pad)
    b = flat_model(**flat)
    keep = pad["attention_mask"].bool()
    torch.testing.assert_close(b.logits[0], a.logits[keep], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(b.loss, a.loss, atol=1e-5, rtol=1e-5)
    a.loss.backward()
    b.loss.backward()
    for (name, p), q in zip(padded_model.named_parameters(), flat_model.parameters()):
        torch.testing.assert_close(q.grad, p.grad, atol=1e-5, rtol=1e-3, msg=name)


class RecordingCollator(MLMCollator):
    """Keeps a copy of every batch it returns (used with num_workers=0)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.seen = []
        self.epochs = []

    def __call__(self, examples, return_tensors=None):
        batch = super().__call__(examples, return_tensors)
        self.seen.append({k: v.clone() for k, v in batch.items()})
        self.epochs.append(self.epoch)
        return batch


def test_trainer_resumed_from_a_checkpoint_sees_the_same_masks(tok, blocks, tmp_path):
    """Sample ids from IndexedDataset (they get through Trainer's column filter), the epoch
    from EpochCallback: the batches after resuming mid-epoch equal the uninterrupted run's."""
    data = IndexedDataset(hf_dataset(tok, blocks[:48]))  # 6 steps of 8 per epoch

    def run(out, resume=None):
        collator = RecordingCollator.from_tokenizer(tok, seed=3)
        args = training_args(out, per_device_train_batch_size=8, max_steps=12,
                              save_strategy="steps", save_steps=8, logging_steps=4)
        trainer = transformers.Trainer(model=tiny_bert(tok), args=args, train_dataset=data,
                                       data_collator=collator,
                                       callbacks=[EpochCallback(collator)])
        trainer.train(resume_from_checkpoint=resume)
        return collator.seen, collator.epochs

    full, epochs = run(tmp_path / "full")
    assert len(full) == 12 and epochs == [0] * 6 + [1] * 6
    resumed, epochs = run(tmp_path / "resumed", resume=str(tmp_path / "full" / "checkpoint-8"))
    assert len(resumed) == 4 and epochs == [1] * 4
    for a, b in zip(resumed, full[8:]):
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), k
