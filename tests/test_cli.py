"""The ``fastmask`` command line: help, errors, ``show``, ``bench`` and ``demo`` on tiny inputs."""

import importlib.util
import io
import json
import os
import subprocess
import sys

import pytest

from fastmask import bench as bm
from fastmask import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(cli.__file__)))
HAVE_TOKENIZERS = importlib.util.find_spec("tokenizers") is not None
HAVE_MPL = importlib.util.find_spec("matplotlib") is not None
ANSI = "\x1b["

TINY_BENCH = ["bench", "--batch-sizes", "8,64", "--max-lengths", "32", "--masking",
              "tokens,words", "--inputs", "list,ragged", "--peers",
              "fastmask,numpy,pad-floor,copy-floor", "--repeat", "1", "--warmup", "0",
              "--max-time", "0", "--fresh", "none", "--threads", "1,2", "--no-progress"]


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    # one demo-tokenizer cache for the whole module, away from the user's cache
    monkeypatch.setenv("FASTMASK_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def run(args, capsys, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", stdin)
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def exits(args, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(args)
    out, err = capsys.readouterr()
    return e.value.code, out, err


# ---------------------------------------------------------------------------------------------
# help and usage errors


@pytest.mark.parametrize("command", [[], ["demo"], ["bench"], ["show"]])
def test_help(command, capsys):
    code, out, _ = exits(command + ["--help"], capsys)
    assert code == 0
    assert out.startswith("usage: fastmask")
    if command:
        assert f"fastmask {command[0]}" in out


def test_help_lists_commands_and_peers(capsys):
    _, out, _ = exits(["--help"], capsys)
    for c in ("demo", "bench", "show"):
        assert c in out
    _, out, _ = exits(["bench", "--help"], capsys)
    for p in bm.PEERS:
        assert p in out


def test_prep_is_registered(capsys):
    # prep is part of the package: a module that fails to import is a failure, not a skip
    code, out, _ = exits(["prep", "--help"], capsys)
    assert code == 0 and "fastmask prep" in out
    assert "failed to import" not in out


def test_version(capsys):
    code, out, _ = exits(["--version"], capsys)
    assert code == 0 and out.startswith("fastmask ")


def test_no_command_is_a_usage_error(capsys):
    code, _, err = exits([], capsys)
    assert code == 2 and "required" in err


@pytest.mark.parametrize("args, message", [
    (["bench", "--repeat", "0"], "expected a positive integer"),
    (["bench", "--peers", "fastmask,nope"], "unknown value 'nope'"),
    (["bench", "--batch-sizes", "8,x"], "comma-separated integers"),
    (["bench", "--max-lengths", "1"], "values must be >= 2"),
    (["bench", "--inputs", "csv"], "unknown value 'csv'"),
    (["bench", "--fresh", "sometimes"], "invalid choice"),
    (["bench", "--bogus"], "unrecognized arguments"),
    (["show", "--mlm-probability", "1.5", "x"], "expected a number in [0, 1]"),
    (["show", "--selection", "random", "x"], "invalid choice"),
    (["show", "--color", "pink", "x"], "invalid choice"),
    (["demo", "--repeat", "-1"], "expected a positive integer"),
])
def test_bad_options(args, message, capsys):
    code, _, err = exits(args, capsys)
    assert code == 2
    assert message in err


@pytest.mark.parametrize("args, message", [
    (["show", "--file", "/no/such/file.txt"], "cannot read '/no/such/file.txt': no such file"),
    (["show", "--tokenizer", "/no/such/tokenizer.json", "x"], "does not exist"),
    (["bench", "--tokens", "/no/such/ids.txt"], "--tokens: '/no/such/ids.txt' does not exist"),
    (["bench", "--from-json", "/no/such/r.json"], "cannot read results file"),
    (["bench", "--json", "/no/such/dir/r.json", "--quick"], "does not exist"),
    (["show", "--mask-replace-prob", "0.9", "--random-replace-prob", "0.2", "x"],
     "--mask-replace-prob + --random-replace-prob must be <= 1"),
])
def test_runtime_usage_errors(args, message, capsys):
    code, out, err = run(args, capsys)
    assert code == 2
    assert err.startswith(f"fastmask {args[0]}: error: ")
    assert message in err
    assert "Traceback" not in err


def test_show_file_that_is_a_directory_or_not_utf8(tmp_path, capsys):
    code, _, err = run(["show", "--file", str(tmp_path)], capsys)
    assert code == 2 and "it is a directory" in err
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9".encode("latin-1"))
    code, _, err = run(["show", "--file", str(bad)], capsys)
    assert code == 2 and "not UTF-8 text" in err


def test_show_without_text(capsys, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    code, _, err = run(["show"], capsys, stdin=Tty(), monkeypatch=monkeypatch)
    assert code == 2 and "no text" in err
    code, _, err = run(["show"], capsys, stdin=io.StringIO("  \n\n"), monkeypatch=monkeypatch)
    assert code == 2 and "the text is empty" in err


def test_bad_token_file_and_tokenizer(tmp_path, capsys):
    ids = tmp_path / "ids.txt"
    ids.write_text("1 2 three\n")
    code, _, err = run(["bench", "--tokens", str(ids), "--no-json", "--no-chart"], capsys)
    assert code == 2 and "ids.txt:1: expected whitespace-separated integer ids" in err
    if HAVE_TOKENIZERS:
        bad = tmp_path / "tokenizer.json"
        bad.write_text("{not json")
        code, _, err = run(["show", "--tokenizer", str(bad), "hello"], capsys)
        assert code == 2 and "cannot load tokenizer file" in err


# ---------------------------------------------------------------------------------------------
# show


TEXT = "The quick brown fox jumps over the lazy dog, then naps under an apple tree."


def test_show_colours_and_masks(capsys):
    code, out, err = run(["show", "--color", "always", "-p", "0.5", TEXT], capsys)
    assert code == 0, err
    assert "[MASK]" in out
    assert ANSI in out
    assert Style_codes_in(out)
    assert "picked " in out and "legend:" in out


def Style_codes_in(out):
    return cli.Style.CODES["mask"] in out and cli.Style.CODES["special"] in out


def test_show_no_color(capsys):
    code, out, _ = run(["show", "--no-color", "-p", "0.5", "--seed", "0", TEXT], capsys)
    assert code == 0
    assert "[MASK]" in out and ANSI not in out
    code, out2, _ = run(["show", "--color", "never", "-p", "0.5", "--seed", "0", TEXT], capsys)
    assert out2 == out


def test_show_auto_colour_respects_no_color(capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, out, _ = run(["show", "-p", "0.5", TEXT], capsys)
    assert ANSI in out
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(["show", "-p", "0.5", TEXT], capsys)
    assert ANSI not in out


def test_show_marks_all_three_kinds(capsys):
    # with every picked token replaced at random / kept, the other notations appear
    _, out, _ = run(["show", "--no-color", "-p", "1", "--mask-replace-prob", "0",
                     "--random-replace-prob", "1", TEXT], capsys)
    line = out.split("\n")[4]
    assert line.startswith("[CLS] {") and "[MASK]" not in line
    assert ": 0 [MASK], " in out and " random, 0 kept" in out
    _, out, _ = run(["show", "--no-color", "-p", "1", "--mask-replace-prob", "0",
                     "--random-replace-prob", "0", TEXT], capsys)
    assert "_fox_" in out or "_fo_" in out


def test_show_json_and_word_boundaries(capsys):
    code, out, _ = run(["show", "--json", "--whole-word", "-p", "0.4", "--seed", "3",
                        TEXT + "\nPhotosynthesis is unbelievably interesting."], capsys)
    assert code == 0
    doc = json.loads(out)
    assert len(doc["sequences"]) == 2
    for seq in doc["sequences"]:
        n = len(seq["input_ids"])
        assert len(seq["labels"]) == len(seq["masked_ids"]) == len(seq["kinds"]) == n
        assert seq["kinds"][0] == seq["kinds"][-1] == "special"
        # whole-word: a word is either entirely picked or not at all
        word = -1
        picked_by_word = {}
        for k, s in zip(seq["kinds"], seq["word_starts"]):
            word += s
            if k != "special":
                picked_by_word.setdefault(word, set()).add(k != "plain")
        assert all(len(v) == 1 for v in picked_by_word.values())
        for k, lab, orig in zip(seq["kinds"], seq["labels"], seq["input_ids"]):
            assert (lab == -100) == (k in ("plain", "special"))
            if lab != -100:
                assert lab == orig


def test_show_reads_stdin_and_files(tmp_path, capsys, monkeypatch):
    code, out, _ = run(["show", "--no-color", "-p", "0.5"], capsys,
                       stdin=io.StringIO("first line here\nsecond line there\n"),
                       monkeypatch=monkeypatch)
    assert code == 0 and out.count("picked ") == 2
    f = tmp_path / "t.txt"
    f.write_text("one line of text to mask\n", encoding="utf-8")
    code, out, _ = run(["show", "--no-color", "-f", str(f)], capsys)
    assert code == 0 and out.count("picked ") == 1
    code, out, _ = run(["show", "--no-color", "--seed", "0", "-f", "-"], capsys,
                       stdin=io.StringIO("from stdin\n"), monkeypatch=monkeypatch)
    assert code == 0 and "stdin" in out


def test_show_same_output_from_the_reference(capsys):
    args = ["show", "--json", "-w", "--selection", "span", "-p", "0.3", "--seed", "0", TEXT]
    _, c_out, _ = run(args, capsys)
    _, ref_out, _ = run(args + ["--impl", "reference"], capsys)
    assert json.loads(c_out) == json.loads(ref_out)


def test_show_builtin_tokenizer(capsys):
    code, out, _ = run(["show", "--builtin-tokenizer", "--no-color", "-p", "0.5", TEXT], capsys)
    assert code == 0
    assert "built-in word-piece tokenizer" in out and "[MASK]" in out


def test_builtin_tokenizer_pieces():
    wp = cli.SimpleWordPiece(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##believ",
                              "##able", "a", ",", "b"])
    ids, offsets = wp.encode("Unbelievable, a xyz")
    toks = [wp.vocab[i] for i in ids]
    assert toks == ["[CLS]", "un", "##believ", "##able", ",", "a", "[UNK]", "[SEP]"]
    assert offsets[1:4] == [(0, 2), (2, 8), (8, 12)] and offsets[6] == (16, 19)


@pytest.mark.skipif(not HAVE_TOKENIZERS, reason="needs tokenizers")
def test_show_with_a_tokenizer_file(tmp_path, capsys):
    tok = cli.load_text_tokenizer()
    path = str(tmp_path / "tokenizer.json")
    tok.source.save(path)
    code, out, _ = run(["show", "--tokenizer", path, "--no-color", "-p", "0.5", TEXT], capsys)
    assert code == 0 and "tokenizer: tokenizer.json" in out and "[MASK]" in out
    code, out, _ = run(["show", "--tokenizer", str(tmp_path), "--no-color", TEXT], capsys)
    assert code == 0  # a directory holding a tokenizer.json
    code, _, err = run(["show", "--tokenizer", path, "--mask-token", "<nope>", TEXT], capsys)
    assert code == 2 and "'<nope>' is not in the tokenizer's vocabulary" in err


def test_show_max_length_cuts(capsys):
    code, out, err = run(["show", "--no-color", "--max-length", "5", TEXT], capsys)
    assert code == 0 and "cut to 5 tokens" in err
    assert out.strip().splitlines()[-2].endswith("[SEP]")


# ---------------------------------------------------------------------------------------------
# bench


def test_bench_tiny_run_writes_json_and_chart(tmp_path, capsys):
    j, c = str(tmp_path / "r.json"), str(tmp_path / "r.png")
    code, out, err = run(TINY_BENCH + ["--json", j, "--chart", c], capsys)
    assert code == 0, err
    assert out.startswith("machine: ")
    assert "fastmask (C core)" in out and "ms/batch" in out and "Mtok/s" in out
    assert f"results: {j}" in out
    with open(j) as f:
        doc = json.load(f)
    assert bm.validate_results(doc) == []
    assert doc["command"].startswith("fastmask bench --batch-sizes 8,64")
    assert {s["inputs"] for s in doc["scenarios"]} == {"list", "ragged"}
    assert {r["threads"] for r in doc["scaling"]["threads"]} == {1, 2}
    if HAVE_MPL:
        assert f"chart: {c}" in out
        with open(c, "rb") as f:
            assert f.read(4) == b"\x89PNG"
    else:
        assert "chart skipped" in out and "pip install matplotlib" in out
    # the saved results can be reported again without running anything
    code, out2, _ = run(["bench", "--from-json", j], capsys)
    assert code == 0 and "fastmask (C core)" in out2


def test_bench_no_outputs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(TINY_BENCH + ["--no-json", "--no-chart", "--threads", "none",
                                     "--masking", "tokens"], capsys)
    assert code == 0
    assert os.listdir(tmp_path) == []
    assert "results:" not in out and "Threads:" not in out


def test_bench_on_a_token_file(tmp_path, capsys):
    ids = tmp_path / "ids.jsonl"
    ids.write_text("\n".join(json.dumps({"input_ids": [2] + list(range(10, 10 + n)) + [3]})
                             for n in (5, 30, 12, 50)))
    j = str(tmp_path / "r.json")
    code, out, err = run(["bench", "--tokens", str(ids), "--special-ids", "0,1,2,3",
                          "--mask-id", "1", "--batch-sizes", "4", "--max-lengths", "16,64",
                          "--peers", "fastmask,numpy,pad-floor,copy-floor", "--inputs", "list",
                          "--repeat", "1", "--warmup", "0", "--max-time", "0", "--fresh",
                          "none", "--threads", "none", "--json", j, "--no-chart",
                          "--no-progress"], capsys)
    assert code == 0, err
    assert "token file" in out
    doc = json.load(open(j))
    assert doc["data"]["source"] == "file" and doc["data"]["vocab_size"] == 60
    tokens = {s["max_length"]: s["tokens"] for s in doc["scenarios"]}
    assert tokens[16] == 7 + 16 + 14 + 16  # truncated to the max length
    # without a word table, whole-word scenarios are skipped with a reason
    assert any("word table" in s["reason"] for s in doc["skipped"])


def test_bench_peers_can_be_chosen(tmp_path, capsys):
    j = str(tmp_path / "r.json")
    args = [a for a in TINY_BENCH]
    i = args.index("--peers")
    args[i + 1] = "numpy"
    code, _, _ = run(args + ["--skip-peers", "numpy", "--json", j, "--no-chart"], capsys)
    assert code == 0
    doc = json.load(open(j))
    assert {r["peer"] for r in doc["results"]} == {"fastmask"}


# ---------------------------------------------------------------------------------------------
# demo and the entry points


def test_demo_quick(capsys):
    code, out, err = run(["demo", "--quick", "--no-progress", "--color", "always"], capsys)
    assert code == 0, err
    assert "[MASK]" in out and ANSI in out
    assert "machine: " in out
    assert "fastmask (C core)" in out and "NumPy-vectorized" in out
    assert "fastmask bench" in out


def test_demo_without_bench_or_colour(capsys):
    code, out, _ = run(["demo", "--no-bench", "--no-color", "--builtin-tokenizer"], capsys)
    assert code == 0
    assert "whole-word masking" in out and ANSI not in out and "Speed" not in out


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def test_python_dash_m(tmp_path):
    p = subprocess.run([sys.executable, "-m", "fastmask", "show", "--no-color", "-p", "0.5",
                        TEXT], capture_output=True, text=True, env=dict(
                            _env(), FASTMASK_CACHE_DIR=str(tmp_path)), timeout=120)
    assert p.returncode == 0, p.stderr
    assert "[MASK]" in p.stdout
    p = subprocess.run([sys.executable, "-m", "fastmask", "bench", "--repeat", "zero"],
                       capture_output=True, text=True, env=_env(), timeout=120)
    assert p.returncode == 2 and "expected a positive integer" in p.stderr


def test_entry_point_function():
    from fastmask.__main__ import main

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0


def _hide(monkeypatch, *modules):
    """Makes optional packages look uninstalled."""
    import builtins

    real_import = builtins.__import__
    real_find = importlib.util.find_spec

    def fake_import(name, *a, **kw):
        if name.split(".")[0] in modules:
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *a, **kw)

    def fake_find(name, *a, **kw):
        if name.split(".")[0] in modules:
            return None
        return real_find(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(importlib.util, "find_spec", fake_find)


def test_chart_without_matplotlib_is_a_note(tmp_path, capsys, monkeypatch):
    j = str(tmp_path / "r.json")
    assert run(TINY_BENCH + ["--masking", "tokens", "--json", j, "--no-chart"], capsys)[0] == 0
    _hide(monkeypatch, "matplotlib")
    code, out, _ = run(["bench", "--from-json", j, "--chart", str(tmp_path / "c.png")], capsys)
    assert code == 0
    assert "chart skipped" in out and "pip install matplotlib" in out
    assert not os.path.exists(tmp_path / "c.png")


def test_show_without_tokenizers_falls_back(capsys, monkeypatch):
    _hide(monkeypatch, "tokenizers")
    code, out, err = run(["show", "--no-color", "-p", "0.5", TEXT], capsys)
    assert code == 0
    assert "built-in word-piece tokenizer" in out and "[MASK]" in out
    assert "pip install tokenizers" in err
    code, _, err = run(["show", "--tokenizer", "x.json", TEXT], capsys)
    assert code == 2 and "needs the 'tokenizers' package: pip install tokenizers" in err


def test_bench_without_hugging_face_says_how_to_install(tmp_path, capsys, monkeypatch):
    _hide(monkeypatch, "transformers")
    j = str(tmp_path / "r.json")
    code, out, _ = run(TINY_BENCH + ["--peers", "fastmask,hf,hf-wwm", "--json", j,
                                     "--no-chart", "--threads", "none"], capsys)
    assert code == 0
    assert "skipped HF DataCollatorForLanguageModeling: transformers not installed: " \
           "pip install transformers tokenizers" in out
    doc = json.load(open(j))
    assert [p["available"] for p in doc["peers"] if p["name"].startswith("hf")] == [False, False]
