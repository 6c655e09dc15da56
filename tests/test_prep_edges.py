"""``fastmask prep`` at the edges (issue 12, F4 and F7): unreadable inputs and outputs get a
message naming the file (exit 2, no traceback); empty inputs of every kind write 0 rows; a
signal right after publishing does not report a complete output as lost; the temporary
directory a killed run leaves behind is removed by the next run."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fastmask
from fastmask.cli import main
from fastmask.prep import writers

pq = pytest.importorskip("pyarrow.parquet")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastmask.__file__)))
VOCAB = ["--vocab-size", "50", "--mask-token-id", "4", "--special-ids", "0,1,2,3,4",
         "--no-progress", "--seed", "1"]
ROWS = [[2, 10, 11, 12, 3], [2, 13, 14, 3]]


def prep(*argv):
    return main(["prep", *map(str, argv)])


def leftovers(directory):
    return glob.glob(os.path.join(str(directory), ".*" + writers.TMP_SUFFIX))


def env():
    return dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


# -- F4 ---------------------------------------------------------------------------------------


def _empty(p):
    p.write_bytes(b"")


def _npy(p):
    with open(p, "wb") as f:
        np.save(f, np.arange(5))


def _text(p):
    p.write_text("1 2 3\n4 5\n")


def _no_arrays(p):
    np.savez(p)


@pytest.mark.parametrize("make, what", [
    (_empty, "is empty"),
    (_npy, "holds a single .npy array, not an .npz archive"),
    (_text, "is not an .npz (zip) archive"),
    (_no_arrays, "must hold 'values' and 'offsets' arrays"),
])
def test_bad_npz_names_the_file(tmp_path, capsys, make, what):
    src = tmp_path / "ids.npz"
    make(src)
    rc = prep(src, "-o", tmp_path / "o.parquet", *VOCAB)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.startswith(f"fastmask prep: error: {src}")
    assert what in err
    assert "Traceback" not in err and "EOFError" not in err and "pickled" not in err
    assert not (tmp_path / "o.parquet").exists() and not leftovers(tmp_path)


def test_output_under_a_file(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"input_ids": r}) + "\n" for r in ROWS))
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for out in (blocker / "o.parquet", blocker / "deeper" / "o.parquet"):
        rc = prep(src, "-o", out, *VOCAB)
        err = capsys.readouterr().err
        assert rc == 2, err
        assert f"cannot write {out}: {blocker} is a file, not a directory" in err
        assert "Errno" not in err
    assert blocker.read_text() == "x"


def test_empty_inputs_all_write_zero_rows(tmp_path, capsys):
    tok = pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers

    t = Tokenizer(models.WordPiece({w: i for i, w in enumerate(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"])}, unk_token="[UNK]"))
    t.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    t.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok_path = tmp_path / "tokenizer.json"
    t.save(str(tok_path))
    assert tok  # the package is there
    cases = {"empty.jsonl": "", "blank.jsonl": "\n\n  \n", "empty.txt": "", "blank.txt": "\n\n"}
    for name, content in cases.items():
        src = tmp_path / name
        src.write_text(content)
        out = tmp_path / f"{name}.parquet"
        extra = ["--tokenizer", tok_path] if name.endswith(".txt") else []
        rc = prep(src, "-o", out, *VOCAB, *extra)
        err = capsys.readouterr().err
        assert rc == 0, (name, err)
        assert "wrote 0 rows (0 samples x 1 copy, 0 tokens)" in err
        table = pq.read_table(str(out))
        assert table.num_rows == 0 and {"input_ids", "labels"} <= set(table.column_names)


# -- F7 ---------------------------------------------------------------------------------------


def test_signal_right_after_publishing_reports_the_complete_output(tmp_path, capsys,
                                                                    monkeypatch):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"input_ids": r}) + "\n" for r in ROWS))
    real = writers._AtomicOutput.publish

    def publish_then_sigint(self, built):
        real(self, built)
        raise KeyboardInterrupt  # SIGINT arriving just after the output moved into place

    monkeypatch.setattr(writers._AtomicOutput, "publish", publish_then_sigint)
    out = tmp_path / "o.parquet"
    rc = prep(src, "-o", out, *VOCAB)
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "output was complete" in err and str(out) in err
    assert "no output was written" not in err
    assert pq.read_table(str(out)).num_rows == len(ROWS)
    assert not leftovers(tmp_path)


def test_signals_wait_while_the_output_moves():
    if sys.platform == "win32":
        pytest.skip("platform: POSIX signals")
    seen = []
    # start from Python's own handler (an engine started earlier in the run may install another)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            with writers._signals_held():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                seen.append("block finished")  # not cut off by the signal
        assert seen == ["block finished"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)


OPEN_OUTPUT = ("import os, signal, sys, time; from fastmask.prep.writers import _AtomicOutput; "
               "out = _AtomicOutput(sys.argv[1], False); print(out.tmpdir, flush=True); ")


def test_next_run_removes_temp_dirs_of_killed_runs(tmp_path, capsys):
    if sys.platform == "win32":
        pytest.skip("platform: SIGKILL")
    out = tmp_path / "o.parquet"
    # a run that is still going keeps its temporary directory
    live = subprocess.Popen([sys.executable, "-c", OPEN_OUTPUT + "time.sleep(60)", str(out)],
                            stdout=subprocess.PIPE, text=True, env=env())
    try:
        alive = live.stdout.readline().strip()
        assert os.path.isdir(alive)
        # a run killed with SIGKILL while writing leaves its temporary directory behind
        p = subprocess.run([sys.executable, "-c", OPEN_OUTPUT + "os.kill(os.getpid(), 9)",
                            str(out)], capture_output=True, text=True, env=env(), timeout=120)
        assert p.returncode == -9
        dead = p.stdout.strip()
        assert os.path.isdir(dead) and sorted(leftovers(tmp_path)) == sorted([dead, alive])
        src = tmp_path / "in.jsonl"
        src.write_text("".join(json.dumps({"input_ids": r}) + "\n" for r in ROWS))
        assert prep(src, "-o", out, *VOCAB) == 0
        err = capsys.readouterr().err
        assert "removed 1 temporary directory left by earlier runs" in err
        assert not os.path.exists(dead)
        assert os.path.isdir(alive)
        assert pq.read_table(str(out)).num_rows == len(ROWS)
    finally:
        live.kill()
        live.wait()
