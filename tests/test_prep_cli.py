"""``fastmask prep`` as a new user meets it (issue 10, items 9-11 and 14): int64 output a
Hugging Face model accepts, the install hint without pyarrow, messages in flag names, and a
summary line that reads right for small runs."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import fastmask
from fastmask.cli import main
from fastmask.prep import PrepStats
from fastmask.prep.command import summary_line

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastmask.__file__)))
V, MASK = 50, 4
ROWS = [[2] + list(range(10, 10 + n)) + [3] for n in (5, 12, 3, 20, 8, 30)]
VOCAB = ["--vocab-size", str(V), "--mask-token-id", str(MASK), "--pad-token-id", "0",
         "--special-ids", "0,1,2,3,4"]


def jsonl(path, rows=ROWS):
    path.write_text("".join(json.dumps({"input_ids": r}) + "\n" for r in rows))
    return str(path)


def prep(*argv):
    return main(["prep", *map(str, argv)])


def env():
    return dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


# -- item 9: int64 by default ---------------------------------------------------------------


def test_default_output_is_int64_and_a_bert_model_takes_it(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    out = tmp_path / "o.parquet"
    assert prep(jsonl(tmp_path / "in.jsonl"), "-o", out, *VOCAB, "--seed", 1,
                "--mlm-probability", 0.5, "--max-seq-length", 32, "--pad",
                "--no-progress") == 0
    t = pq.read_table(str(out))
    assert str(t.schema.field("input_ids").type.value_type) == "int64"
    assert str(t.schema.field("labels").type.value_type) == "int64"
    ids = np.stack([np.asarray(x) for x in t.column("input_ids").to_numpy()])
    labels = np.stack([np.asarray(x) for x in t.column("labels").to_numpy()])
    attn = np.stack([np.asarray(x) for x in t.column("attention_mask").to_numpy()])
    assert labels.dtype == np.int64 and (labels != -100).any()
    cfg = transformers.BertConfig(vocab_size=V, hidden_size=16, num_hidden_layers=1,
                                  num_attention_heads=2, intermediate_size=32,
                                  max_position_embeddings=64)
    torch.manual_seed(0)
    model = transformers.BertForMaskedLM(cfg)
    loss = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(attn),
                 labels=torch.from_numpy(labels)).loss
    assert torch.isfinite(loss)
    # int32 stays available
    out32 = tmp_path / "o32.parquet"
    assert prep(jsonl(tmp_path / "in.jsonl"), "-o", out32, *VOCAB, "--seed", 1,
                "--dtype", "int32", "--no-progress") == 0
    t32 = pq.read_table(str(out32))
    assert str(t32.schema.field("labels").type.value_type) == "int32"


# -- item 10: without pyarrow ---------------------------------------------------------------


HIDE_PYARROW = "import sys; sys.modules['pyarrow'] = None; "


def test_prep_without_pyarrow_gives_the_install_hint(tmp_path):
    src = jsonl(tmp_path / "in.jsonl")
    code = (HIDE_PYARROW + "from fastmask.cli import main; "
            f"sys.exit(main(['prep', {src!r}, '-o', {str(tmp_path / 'o.parquet')!r}, "
            "'--vocab-size', '50', '--mask-token-id', '4']))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(),
                       timeout=120)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    assert p.stderr.startswith("fastmask prep: error: ")
    assert "pip install 'fastmask[prep]'" in p.stderr
    assert not (tmp_path / "o.parquet").exists()
    # --help works without pyarrow and says what prep needs
    for argv in ("['--help']", "['prep', '--help']"):
        p = subprocess.run([sys.executable, "-c", HIDE_PYARROW + "from fastmask.cli import "
                            f"main; sys.exit(main({argv}))"], capture_output=True, text=True,
                           env=env(), timeout=120)
        assert p.returncode == 0, p.stderr
        assert "fastmask[prep]" in " ".join(p.stdout.split())


# -- item 11: flag names in messages --------------------------------------------------------


def test_errors_name_flags_not_python_options(tmp_path, capsys):
    src = jsonl(tmp_path / "in.jsonl")
    rc = prep(src, "-o", tmp_path / "o.parquet", *VOCAB, "--max-seq-length", 8, "--no-progress")
    err = capsys.readouterr().err
    assert rc == 1
    assert "more than --max-seq-length 8; pass --truncate to cut it" in err
    assert "truncation=" not in err and "max_length" not in err
    rc = prep(src, "-o", tmp_path / "o.parquet", "--vocab-size", 5, "--mask-token-id", 9,
              "--no-progress")
    err = capsys.readouterr().err
    assert rc == 2 and "--mask-token-id 9 is outside [0, 5)" in err
    assert "mask_token_id" not in err


# -- item 14: the summary line --------------------------------------------------------------


def test_summary_line_counts_and_rates():
    one = summary_line(PrepStats(path="o.parquet", rows=1, tokens=7, samples=1, dupe_factor=1,
                                 seconds=0.002), seed=3)
    assert "1 row (1 sample x 1 copy, 7 tokens)" in one
    assert "in 2 ms" in one and "(3.5 k tokens/s)" in one and one.endswith("seed 3")
    many = summary_line(PrepStats(path="o", rows=20, tokens=30_000_000, samples=10,
                                  dupe_factor=2, seconds=2.0), seed=1)
    assert "20 rows (10 samples x 2 copies, 30000000 tokens)" in many
    assert "in 2.00 s (15 M tokens/s)" in many
    slow = summary_line(PrepStats(path="o", rows=2, tokens=50, samples=2, seconds=1.0), seed=1)
    assert "(50 tokens/s)" in slow


def test_small_run_summary(tmp_path, capsys):
    assert prep(jsonl(tmp_path / "in.jsonl", ROWS[:1]), "-o", tmp_path / "o.parquet", *VOCAB,
                "--seed", 4, "--no-progress") == 0
    err = capsys.readouterr().err
    assert "wrote 1 row (1 sample x 1 copy, 7 tokens)" in err
    assert "0.0 M" not in err and "copies" not in err
    assert re.search(r"\((\d+(\.\d+)? [kMG] )?tokens/s\)|too fast to time", err)


@pytest.mark.parametrize("hidden, extra, what", [
    ("datasets", ["--output-format", "hf"], "a saved Hugging Face dataset needs the 'datasets'"),
    ("tokenizers", ["--tokenizer", "tokenizer.json"], "--tokenizer needs the 'tokenizers'"),
])
def test_other_missing_packages_give_the_install_hint(tmp_path, hidden, extra, what):
    src = jsonl(tmp_path / "in.jsonl")
    argv = ["prep", src, "-o", str(tmp_path / "out"), "--vocab-size", "50", "--mask-token-id",
            "4", "--no-progress", *extra]
    code = (f"import sys; sys.modules[{hidden!r}] = None; from fastmask.cli import main; "
            f"sys.exit(main({argv!r}))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(),
                       timeout=120, cwd=str(tmp_path))
    assert p.returncode == 2, p.stderr
    assert what in p.stderr and "pip install 'fastmask[prep]'" in p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "out").exists()
