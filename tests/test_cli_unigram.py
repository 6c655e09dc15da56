"""``--random-ids unigram --unigram-counts FILE`` reaches the Masker from ``show`` and ``prep``."""

import json

import numpy as np
import pytest

from fastmask import cli
from fastmask.cli.text import load_text_tokenizer

TEXT = "The quick brown fox jumps over the lazy dog."


def test_show_draws_random_ids_from_the_counts(tmp_path, capsys):
    tok = load_text_tokenizer()
    target = max(i for i in range(tok.vocab_size) if i not in set(tok.special_ids))
    counts = np.zeros(tok.vocab_size, dtype=np.int64)
    counts[target] = 5  # the only id that can be drawn
    path = tmp_path / "counts.npy"
    np.save(path, counts)
    code = cli.main(["show", "--json", "-p", "1", "--mask-replace-prob", "0",
                     "--random-replace-prob", "1", "--random-ids", "unigram",
                     "--unigram-counts", str(path), "--seed", "1", TEXT])
    out, err = capsys.readouterr()
    assert code == 0, err
    seq = json.loads(out)["sequences"][0]
    picked = [m for m, lab in zip(seq["masked_ids"], seq["labels"]) if lab != -100]
    assert picked and set(picked) == {target}


def test_counts_without_unigram_or_unigram_without_counts(tmp_path, capsys):
    path = tmp_path / "c.txt"
    path.write_text("1\n2\n")
    assert cli.main(["show", "--unigram-counts", str(path), TEXT]) == 2
    assert "--random-ids unigram" in capsys.readouterr().err
    assert cli.main(["show", "--random-ids", "unigram", TEXT]) == 2
    assert "--unigram-counts" in capsys.readouterr().err


def test_prep_takes_unigram_counts(tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    V = 50
    src = tmp_path / "in.jsonl"
    rows = [[2] + list(range(10, 10 + n)) + [3] for n in (5, 9, 12)]
    src.write_text("".join(json.dumps({"input_ids": r}) + "\n" for r in rows))
    counts = tmp_path / "counts.txt"
    counts.write_text("\n".join("7" if i == 42 else "0" for i in range(V)) + "\n")
    out = tmp_path / "out.parquet"
    code = cli.main(["prep", str(src), "-o", str(out), "--vocab-size", str(V),
                     "--mask-token-id", "4", "--special-ids", "0,1,2,3,4", "-p", "1",
                     "--mask-replace-prob", "0", "--random-replace-prob", "1",
                     "--random-ids", "unigram", "--unigram-counts", str(counts), "--seed", "3"])
    assert code == 0, capsys.readouterr().err
    t = pq.read_table(str(out)).to_pydict()
    for ids, labels in zip(t["input_ids"], t["labels"]):
        drawn = [i for i, lab in zip(ids, labels) if lab != -100]
        assert drawn and set(drawn) == {42}
