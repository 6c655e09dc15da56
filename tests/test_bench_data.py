"""A benchmark on a user's token file described by a tokenizer.json (DataSource.from_file and
the one tokenizer reader, fastmask.bench.data.tokenizer_facts)."""

import pytest

from fastmask import bench as bm
from fastmask.bench import data as bench_data

tokenizers = pytest.importorskip("tokenizers")

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "quick", "brown", "fox", "##es",
         ",", "."]


def _tokenizer(tmp_path, words=WORDS, specials=("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")):
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.add_special_tokens([s for s in specials if s in words])
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    return str(path)


def _tokens(tmp_path):
    p = tmp_path / "ids.txt"
    p.write_text("2 5 6 7 8 9 3\n2 8 10 11 3\n", encoding="utf-8")
    return str(p)


def test_facts_of_a_wordpiece_tokenizer(tmp_path):
    facts = bench_data.tokenizer_facts(_tokenizer(tmp_path))
    assert facts.vocab_size == len(WORDS)
    assert (facts.mask_id, facts.pad_id) == (4, 0)
    assert facts.special_ids == (0, 1, 2, 3, 4)
    assert facts.word_table is not None and len(facts.word_table) == len(WORDS)
    assert facts.word_table[9] == 0  # "##es" continues a word
    assert bench_data.tokenizer_facts(_tokenizer(tmp_path), vocab_size=20).vocab_size == 20


def test_data_source_reads_the_tokenizer_through_one_function(tmp_path, monkeypatch):
    tok, ids = _tokenizer(tmp_path), _tokens(tmp_path)
    src = bm.DataSource.from_file(ids, tokenizer=tok)
    assert (src.vocab_size, src.mask_id, src.pad_id) == (len(WORDS), 4, 0)
    assert src.special_ids == (0, 1, 2, 3, 4) and src.word_table is not None
    # given options win over the tokenizer's facts
    src = bm.DataSource.from_file(ids, tokenizer=tok, mask_id=11, pad_id=1, special_ids=[2, 3])
    assert (src.mask_id, src.pad_id, src.special_ids) == (11, 1, (2, 3))
    calls = []
    real = bench_data.tokenizer_facts

    def spy(path, vocab_size=None):
        calls.append(path)
        return real(path, vocab_size)

    monkeypatch.setattr(bench_data, "tokenizer_facts", spy)
    bm.DataSource.from_file(ids, tokenizer=tok)
    assert calls == [tok]
    # whole-word masking runs on it
    doc = bm.run(bm.Settings(batch_sizes=(2,), max_lengths=(8,), maskings=("words",),
                             inputs=("list",), peers=("fastmask",),
                             timing=bm.Timing(repeat=1, warmup=0, min_time=0, max_time=0),
                             fresh="none", threads=(), loader_workers=()),
                 source=bm.DataSource.from_file(ids, tokenizer=tok), progress=False)
    assert [r["peer"] for r in doc["results"]] == ["fastmask"]


def test_tokenizer_problems_are_bench_errors(tmp_path):
    ids = _tokens(tmp_path)
    no_mask = _tokenizer(tmp_path, words=[w for w in WORDS if w != "[MASK]"] + ["x"])
    with pytest.raises(bm.BenchError, match="no \\[MASK\\]/<mask> token; pass --mask-id"):
        bm.DataSource.from_file(ids, tokenizer=no_mask)
    src = bm.DataSource.from_file(ids, tokenizer=no_mask, mask_id=11)
    assert src.mask_id == 11
    with pytest.raises(bm.BenchError, match="does not exist"):
        bm.DataSource.from_file(ids, tokenizer=str(tmp_path / "nope.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(bm.BenchError, match="cannot load tokenizer file"):
        bm.DataSource.from_file(ids, tokenizer=str(bad))
