"""Static masking (fastmask/prep/): write_static and the ``fastmask prep`` command."""

import glob
import json
import os
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import fastmask
from fastmask import prep
from fastmask.instances import create_instances
from fastmask.prep import api as prep_api

tokenizers = pytest.importorskip("tokenizers")

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PAD, UNK, CLS, SEP, MASK = range(5)


# ---------------------------------------------------------------------------------------------
# local data: Python's own help topics, tokenized with a WordPiece trained here


@pytest.fixture(scope="module")
def texts():
    from pydoc_data.topics import topics

    return [topics[k] for k in sorted(topics)][:40]


@pytest.fixture(scope="module")
def tok_path(tmp_path_factory, texts):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=1500,
                                                             special_tokens=SPECIAL_TOKENS))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", CLS), ("[SEP]", SEP)])
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return str(path)


@pytest.fixture(scope="module")
def tok(tok_path):
    return tokenizers.Tokenizer.from_file(tok_path)


def doc_lines(texts):
    return [[ln.strip() for ln in t.splitlines() if ln.strip()] for t in texts]


@pytest.fixture(scope="module")
def corpus_txt(tmp_path_factory, texts):
    path = tmp_path_factory.mktemp("text") / "corpus.txt"
    with open(path, "w", encoding="utf-8") as f:
        for lines in doc_lines(texts):
            f.write("\n".join(lines) + "\n\n")
    return str(path)


@pytest.fixture(scope="module")
def rows(tok, texts):
    """Every line as [CLS] ... [SEP], cut to 64 tokens."""
    lines = [ln for d in doc_lines(texts) for ln in d]
    return [e.ids[:63] + [SEP] if len(e.ids) > 64 else e.ids for e in tok.encode_batch(lines)]


def masker_for(tok, **kw):
    opts = dict(pad_token_id=PAD, special_ids=list(range(5)), seed=77, dtype="int64")
    opts.update(kw)
    return fastmask.Masker(tok.get_vocab_size(), MASK, **opts)


def read(path):
    """A written output as a table in row order (Parquet file, shard directory or dataset)."""
    if os.path.isdir(path) and os.path.exists(os.path.join(path, "state.json")):
        import datasets

        return datasets.load_from_disk(path).data.table
    if os.path.isdir(path):
        parts = sorted(glob.glob(os.path.join(path, "part-*.parquet")))
        return pa.concat_tables([pq.read_table(p) for p in parts])
    return pq.read_table(path)


def strip(t):
    return t.replace_schema_metadata(None)


def leftovers(directory):
    return glob.glob(os.path.join(str(directory), ".*fastmask-tmp*"))


# ---------------------------------------------------------------------------------------------
# write_static


def test_copies_match_the_masker_and_the_collator(tmp_path, tok, rows):
    from fastmask.torch import MLMCollator

    opts = dict(pad_token_id=PAD, special_ids=list(range(5)), seed=77, mlm_probability=0.2)
    m = fastmask.Masker(tok.get_vocab_size(), MASK, **opts)
    table = pa.table({"input_ids": rows})
    out = tmp_path / "static.parquet"
    stats = prep.write_static(table, str(out), m, dupe_factor=3, batch_size=50)
    assert stats.rows == 3 * len(rows) and stats.samples == len(rows)
    assert stats.tokens == 3 * sum(map(len, rows))
    t = read(str(out))
    assert t.column_names == ["sample_id", "copy", "input_ids", "labels"]
    sid = t.column("sample_id").to_pylist()
    copy = t.column("copy").to_pylist()
    assert sid == list(range(len(rows))) * 3
    assert copy == [j for j in range(3) for _ in rows]
    ids = t.column("input_ids").to_pylist()
    labels = t.column("labels").to_pylist()
    coll = MLMCollator(tok.get_vocab_size(), MASK, dupe_factor=3, return_tensors="np", **opts)
    for r in range(0, len(ids), 97):
        i, j = sid[r], copy[r]
        one = m([rows[i]], sample_ids=[i], epoch=j)
        assert ids[r] == one["input_ids"][0].tolist() and labels[r] == one["labels"][0].tolist()
        coll.set_epoch(j + 3 * (r % 4))  # epochs j, j + k, j + 2k, ... reuse copy j
        got = coll([{"input_ids": rows[i], "sample_id": i}])
        n = len(rows[i])
        assert got["input_ids"][0, :n].tolist() == ids[r]
        assert got["labels"][0, :n].tolist() == labels[r]
    meta = json.loads(pq.read_schema(str(out)).metadata[b"fastmask"])
    assert meta["seed"] == 77 and meta["dupe_factor"] == 3
    assert not leftovers(tmp_path)


def test_formats_and_threads_give_the_same_rows(tmp_path, tok, rows):
    m = masker_for(tok, whole_word=True, word_table=tok, selection="span")
    table = pa.table({"input_ids": rows, "keep": np.arange(len(rows))})
    base = tmp_path / "one.parquet"
    prep.write_static(table, str(base), m, dupe_factor=2, batch_size=64, keep_columns=["keep"])
    want = strip(read(str(base)))
    assert want.column("keep").to_pylist() == list(range(len(rows))) * 2
    for kw in (dict(output=str(tmp_path / "two.parquet"), num_threads=2),
               dict(output=str(tmp_path / "shards"), output_format="parquet", num_threads=2,
                    shard_size=300),
               dict(output=str(tmp_path / "shards1"), output_format="parquet", shard_size=300),
               dict(output=str(tmp_path / "ds"), output_format="hf", num_threads=2)):
        prep.write_static(table, masker=m, dupe_factor=2, batch_size=64, keep_columns=["keep"],
                          **kw)
        got = strip(read(kw["output"]))
        assert got.equals(want), kw
    parts = sorted(os.listdir(tmp_path / "shards"))
    assert len(parts) > 2 and parts[0] == "part-00000.parquet"
    assert not leftovers(tmp_path)


def test_sparse_layout_with_pairs(tmp_path, tok, texts):
    docs = [[e.ids for e in tok.encode_batch(lines, add_special_tokens=False)]
            for lines in doc_lines(texts)]
    inst = create_instances(docs, cls_token_id=CLS, sep_token_id=SEP, max_seq_length=96,
                            task="sop", seed=4)
    m = masker_for(tok, selection="exact", max_predictions=14, padding="max_length",
                   max_length=96)
    out = tmp_path / "pairs.parquet"
    prep.write_static(inst, str(out), m, dupe_factor=2, layout="sparse")
    t = read(str(out))
    assert t.column_names == ["sample_id", "copy", "input_ids", "masked_lm_positions",
                              "masked_lm_ids", "masked_lm_weights", "attention_mask",
                              "token_type_ids", "sentence_order_label"]
    n = len(inst)
    assert t.column("sentence_order_label").to_pylist() == inst.label.tolist() * 2
    for r in (0, n // 3, n + 5):
        i = r % n
        row = t.slice(r, 1).to_pylist()[0]
        orig = inst[i]["input_ids"]
        assert len(row["input_ids"]) == 96
        assert row["token_type_ids"][:len(orig)] == inst[i]["token_type_ids"]
        k = int(sum(row["masked_lm_weights"]))
        assert 1 <= k <= 14
        for p, y in zip(row["masked_lm_positions"][:k], row["masked_lm_ids"][:k]):
            assert orig[p] == y and orig[p] not in (CLS, SEP)
        changed = [p for p in range(len(orig)) if row["input_ids"][p] != orig[p]]
        assert set(changed) <= set(row["masked_lm_positions"][:k])


class InterruptBatch:
    """Stands in for prep's batch step and raises KeyboardInterrupt (as Ctrl-C would) on its
    ``at``-th call since it was last armed; the calls before it run the real step."""

    def __init__(self, monkeypatch, at):
        self.real = prep_api._static_batch
        self.at = at
        self.calls = 0
        self._monkeypatch = monkeypatch
        self.arm()

    def __call__(self, *a, **kw):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return self.real(*a, **kw)

    def arm(self):
        """Install this stand-in and count its calls from zero."""
        self.calls = 0
        self._monkeypatch.setattr(prep_api, "_static_batch", self)

    def disarm(self):
        """Put the real batch step back."""
        self._monkeypatch.setattr(prep_api, "_static_batch", self.real)


def test_interrupted_runs_leave_no_output(tmp_path, tok, rows, monkeypatch):
    m = masker_for(tok)
    table = pa.table({"input_ids": rows})
    interrupt = InterruptBatch(monkeypatch, at=4)
    for kw in (dict(output=str(tmp_path / "a.parquet")),
               dict(output=str(tmp_path / "b"), output_format="parquet", shard_size=100,
                    num_threads=2),
               dict(output=str(tmp_path / "c"), output_format="hf", num_threads=2)):
        interrupt.arm()
        with pytest.raises(KeyboardInterrupt):
            prep.write_static(table, masker=m, dupe_factor=2, batch_size=40, **kw)
        assert not os.path.exists(kw["output"])
        assert not leftovers(tmp_path)
    # an interrupted overwrite keeps the old output
    interrupt.disarm()
    old = tmp_path / "old.parquet"
    prep.write_static(table, str(old), m)
    before = old.read_bytes()
    interrupt.arm()
    with pytest.raises(KeyboardInterrupt):
        prep.write_static(table, str(old), m, dupe_factor=2, batch_size=40, overwrite=True)
    assert old.read_bytes() == before
    with pytest.raises(FileExistsError):
        prep.write_static(table, str(old), m)
    assert not leftovers(tmp_path)


def test_errors_name_the_batch(tmp_path, tok):
    m = masker_for(tok)
    table = pa.table({"input_ids": [[5, 6]] * 10 + [[5, None]]})
    with pytest.raises(ValueError, match=r"samples 8 \.\. 10.*input_ids\[2\]\[1\] is null"):
        prep.write_static(table, str(tmp_path / "x.parquet"), m, batch_size=4)
    assert not os.path.exists(tmp_path / "x.parquet") and not leftovers(tmp_path)
    with pytest.raises(ValueError, match="no column"):
        prep.write_static(pa.table({"ids": [[5]]}), str(tmp_path / "y.parquet"), m)
    with pytest.raises(ValueError, match="dupe_factor"):
        prep.write_static(pa.table({"input_ids": [[5]]}), str(tmp_path / "y.parquet"), m,
                          dupe_factor=0)
    with pytest.raises(ValueError, match="keep_columns"):
        prep.write_static(pa.table({"input_ids": [[5]]}), str(tmp_path / "y.parquet"), m,
                          keep_columns=["nope"])


def test_empty_input(tmp_path, tok):
    m = masker_for(tok)
    t = pa.table({"input_ids": pa.array([], type=pa.list_(pa.int32()))})
    for out, fmt in (("e.parquet", None), ("edir", "parquet"), ("eds", "hf")):
        stats = prep.write_static(t, str(tmp_path / out), m, output_format=fmt, dupe_factor=2)
        got = read(str(tmp_path / out))
        assert stats.rows == 0 and got.num_rows == 0
        assert got.column_names == ["sample_id", "copy", "input_ids", "labels"]


def test_iter_static_and_dataset_input(tok, rows):
    datasets = pytest.importorskip("datasets")
    m = masker_for(tok)
    ds = datasets.Dataset.from_dict({"input_ids": rows}).select(range(len(rows) - 1, -1, -1))
    batches = list(prep.iter_static(ds, m, dupe_factor=2, batch_size=100, num_threads=2))
    t = pa.Table.from_batches(batches)
    assert t.num_rows == 2 * len(rows)
    assert t.column("input_ids").to_pylist()[0] == \
        m([rows[-1]], sample_ids=[0], epoch=0)["input_ids"][0].tolist()


# ---------------------------------------------------------------------------------------------
# the command


def cli(*argv):
    from fastmask.cli import main

    return main(["prep", *map(str, argv)])


VOCAB_ARGS = ("--mask-token-id", MASK, "--pad-token-id", PAD, "--special-ids", "0,1,2,3,4",
              "--cls-token-id", CLS, "--sep-token-id", SEP)


def test_cli_id_inputs_agree(tmp_path, tok, rows):
    datasets = pytest.importorskip("datasets")
    V = tok.get_vocab_size()
    jsonl = tmp_path / "ids.jsonl"
    with open(jsonl, "w") as f:
        for i, r in enumerate(rows):
            f.write(json.dumps({"input_ids": r, "note": f"row {i}"}) + "\n")
    npz = tmp_path / "ids.npz"
    off = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=off[1:])
    np.savez(npz, values=np.concatenate([np.asarray(r, dtype=np.int32) for r in rows]),
             offsets=off)
    hf = tmp_path / "ids_ds"
    datasets.Dataset.from_dict({"input_ids": rows}).save_to_disk(str(hf))
    common = ("--vocab-size", V, *VOCAB_ARGS, "--seed", 5, "--dupe-factor", 2,
              "--selection", "exact", "--max-predictions", 10, "--no-progress")
    outs = []
    for src in (jsonl, npz, hf):
        out = tmp_path / f"out_{src.name}.parquet"
        assert cli(src, "-o", out, *common) == 0
        outs.append(strip(read(str(out))))
    assert outs[0].equals(outs[1]) and outs[1].equals(outs[2])
    m = masker_for(tok, seed=5, selection="exact", max_predictions=10)
    lib = tmp_path / "lib.parquet"
    prep.write_static(pa.table({"input_ids": rows}), str(lib), m, dupe_factor=2)
    assert strip(read(str(lib))).equals(outs[0])
    # keep a column of the input
    out = tmp_path / "kept.parquet"
    assert cli(jsonl, "-o", out, *common, "--keep-columns", "note") == 0
    assert read(str(out)).column("note").to_pylist()[:2] == ["row 0", "row 1"]


def test_cli_text_input(tmp_path, tok, tok_path, corpus_txt, texts):
    out = tmp_path / "text.parquet"
    rc = cli(corpus_txt, "-o", out, "--tokenizer", tok_path, "--seed", 9, "--max-seq-length",
             64, "--whole-word", "--no-progress")
    assert rc == 0
    t = read(str(out))
    lines = [ln for d in doc_lines(texts) for ln in d]
    tok.enable_truncation(64)
    encs = tok.encode_batch(lines)
    tok.no_truncation()
    assert t.num_rows == len(lines)
    m = masker_for(tok, seed=9, whole_word=True, max_length=64)
    for i in (0, 17, len(lines) - 1):
        e = encs[i]
        one = m([e.ids], sample_ids=[i], word_ids=[e.word_ids])
        assert t.column("input_ids")[i].as_py() == one["input_ids"][0].tolist()
        assert t.column("labels")[i].as_py() == one["labels"][0].tolist()


def test_cli_pairs_from_text(tmp_path, tok, tok_path, corpus_txt, texts):
    out = tmp_path / "pairs"
    rc = cli(corpus_txt, "-o", out, "--tokenizer", tok_path, "--seed", 3, "--instances",
             "nsp", "--max-seq-length", 80, "--layout", "sparse", "--max-predictions", 12,
             "--selection", "exact", "--pad", "--dupe-factor", 2, "--no-progress")
    assert rc == 0
    t = read(str(out))
    assert {"input_ids", "attention_mask", "token_type_ids", "masked_lm_positions",
            "next_sentence_label"} <= set(t.column_names)
    # the same pipeline through the library
    docs = [[e.ids for e in tok.encode_batch(lines, add_special_tokens=False)]
            for lines in doc_lines(texts)]
    inst = create_instances(docs, cls_token_id=CLS, sep_token_id=SEP, max_seq_length=80,
                            task="nsp", seed=3)
    m = masker_for(tok, seed=3, selection="exact", max_predictions=12, padding="max_length",
                   max_length=80)
    lib = tmp_path / "lib.parquet"
    prep.write_static(inst, str(lib), m, dupe_factor=2, layout="sparse")
    want = strip(read(str(lib)))
    got = strip(t).select(want.column_names)
    assert got.equals(want)


def test_cli_errors_and_interrupt(tmp_path, tok, tok_path, corpus_txt, rows, monkeypatch,
                                  capsys):
    out = tmp_path / "o.parquet"
    assert cli(corpus_txt, "-o", out, "--no-progress") == 2  # text without a tokenizer
    assert "tokenizer" in capsys.readouterr().err
    assert cli(tmp_path / "missing.jsonl", "-o", out, "--vocab-size", 10,
               "--mask-token-id", 4) == 2
    # out-of-range values are rejected while parsing, in flag names
    with pytest.raises(SystemExit) as e:
        cli(corpus_txt, "-o", out, "--tokenizer", tok_path, "--mlm-probability", 1.5)
    assert e.value.code == 2
    assert "--mlm-probability" in capsys.readouterr().err
    assert cli(corpus_txt, "-o", out, "--tokenizer", tok_path, "--instances", "nsp",
               "--max-seq-length", 4) == 2
    assert cli(corpus_txt, "-o", out, "--tokenizer", tmp_path / "no.json") == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input_ids": [5, 6]}\n{"input_ids": [5, 99999]}\n')
    assert cli(bad, "-o", out, "--vocab-size", 100, "--mask-token-id", 4,
               "--no-progress") == 1
    assert "out of range" in capsys.readouterr().err
    assert not out.exists() and not leftovers(tmp_path)
    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps({"input_ids": r}) + "\n" for r in rows))
    args = (good, "-o", out, "--tokenizer", tok_path, "--no-progress", "--batch-size", 50)
    assert cli(*args) == 0
    assert cli(*args) == 2  # exists
    assert "--overwrite" in capsys.readouterr().err

    InterruptBatch(monkeypatch, at=3)
    out2 = tmp_path / "o2.parquet"
    assert cli(good, "-o", out2, "--tokenizer", tok_path, "--no-progress", "--batch-size",
               50, "--dupe-factor", 2) == 130
    assert not out2.exists() and not leftovers(tmp_path)


def test_cli_progress_bar_reports_tokens_per_second(tmp_path, tok_path, rows, capsys):
    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps({"input_ids": r}) + "\n" for r in rows))
    assert cli(good, "-o", tmp_path / "p.parquet", "--tokenizer", tok_path, "--progress") == 0
    err = capsys.readouterr().err
    # the bar's rate, and the summary's (in tokens/s, k or M tokens/s as the size of the run
    # and the machine's load give)
    assert "tok/s" in err
    assert re.search(r"\(\d+(\.\d+)? ([kMG] )?tokens/s\); seed \d+", err), err


def test_cli_document_inputs_agree(tmp_path, tok, tok_path, corpus_txt, texts):
    docs = [[e.ids for e in tok.encode_batch(lines, add_special_tokens=False)]
            for lines in doc_lines(texts)]
    jsonl = tmp_path / "docs.jsonl"
    with open(jsonl, "w") as f:
        for d in docs:
            f.write(json.dumps({"input_ids": d}) + "\n")
    sents = [s for d in docs for s in d]
    off = np.zeros(len(sents) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sents], out=off[1:])
    doc_off = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in docs], out=doc_off[1:])
    npz = tmp_path / "docs.npz"
    np.savez(npz, values=np.concatenate([np.asarray(s, np.int32) for s in sents]),
             offsets=off, document_offsets=doc_off)
    common = ("--tokenizer", tok_path, "--seed", 12, "--instances", "sop", "--max-seq-length",
              64, "--no-progress")
    outs = []
    for src in (jsonl, npz, corpus_txt):
        out = tmp_path / f"o_{os.path.basename(str(src))}.parquet"
        assert cli(src, "-o", out, *common) == 0
        outs.append(strip(read(str(out))))
    assert outs[0].num_rows > 100
    assert outs[0].equals(outs[1]) and outs[1].equals(outs[2])
    assert "sentence_order_label" in outs[0].column_names
    bad = tmp_path / "flat.npz"
    np.savez(bad, values=np.arange(5, 10), offsets=np.array([0, 5]))
    assert cli(bad, "-o", tmp_path / "x.parquet", *common) == 1


def test_cli_span_and_whole_word_options(tmp_path, tok, tok_path, rows):
    good = tmp_path / "rows.jsonl"
    good.write_text("".join(json.dumps({"input_ids": r}) + "\n" for r in rows))
    out = tmp_path / "span.parquet"
    assert cli(good, "-o", out, "--tokenizer", tok_path, "--whole-word", "--span", "albert",
               "--action", "unit", "--seed", 21, "--dupe-factor", 2, "--no-progress") == 0
    m = masker_for(tok, seed=21, whole_word=True, word_table=tok, selection="span",
                   span_lengths="albert", action="unit")
    lib = tmp_path / "lib.parquet"
    prep.write_static(pa.table({"input_ids": rows}), str(lib), m, dupe_factor=2)
    assert strip(read(str(out))).equals(strip(read(str(lib))))
    meta = json.loads(pq.read_schema(str(out)).metadata[b"fastmask"])
    assert meta["masker_options"]["selection"] == "span" and meta["seed"] == 21
