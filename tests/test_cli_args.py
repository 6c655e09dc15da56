"""fastmask.cli.args: one set of argument types and masking options shared by show, bench and
prep (same names, same defaults, old spellings kept as aliases), messages in flag names, and
the benchmark-engine import that works before and after the engine moves."""

import argparse

import pytest

from fastmask.cli import args as A
from fastmask.cli import build_parser
from fastmask.cli.bench import engine


def subparser(name):
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def options(p):
    return {s: a for a in p._actions for s in a.option_strings}


SHARED = {"show": ("--mlm-probability", "--mask-replace-prob", "--random-replace-prob",
                   "--selection", "--span-lengths", "--max-predictions", "--action",
                   "--random-ids", "--seed", "--whole-word"),
          "prep": ("--mlm-probability", "--mask-replace-prob", "--random-replace-prob",
                   "--selection", "--span-lengths", "--max-predictions", "--action",
                   "--random-ids", "--seed", "--whole-word", "--dtype", "--vocab-size",
                   "--mask-token-id", "--pad-token-id", "--special-ids"),
          "bench": ("--seed", "--dtype", "--vocab-size", "--mask-token-id", "--pad-token-id",
                    "--special-ids")}


def test_shared_options_have_one_name_and_one_default():
    seen = {}
    for cmd, flags in SHARED.items():
        opts = options(subparser(cmd))
        for flag in flags:
            a = opts[flag]
            key = (a.dest, a.default, a.type, tuple(a.choices or ()), tuple(a.option_strings))
            seen.setdefault(flag, set()).add(key)
    assert {f: len(v) for f, v in seen.items() if len(v) != 1} == {}
    prep = options(subparser("prep"))
    assert prep["--dtype"].default == "int64" and prep["--seed"].default is None


@pytest.mark.parametrize("cmd, old, new", [
    ("show", "--span", "--span-lengths"), ("prep", "--span", "--span-lengths"),
    ("bench", "--mask-id", "--mask-token-id"), ("bench", "--pad-id", "--pad-token-id"),
    ("prep", "--mask-id", "--mask-token-id"),
])
def test_old_spellings_are_aliases(cmd, old, new):
    opts = options(subparser(cmd))
    assert opts[old] is opts[new]


def test_span_lengths_alone_means_span_selection():
    ns = argparse.Namespace(selection=None, span_lengths="albert")
    assert A.span_selection(ns) == ("span", "albert")
    ns = argparse.Namespace(selection="bernoulli", span_lengths=None)
    assert A.span_selection(ns) == ("bernoulli", "spanbert")


@pytest.mark.parametrize("message, flags, want", [
    ("input_ids[3] has 9 tokens, more than max_length=4; pass truncation=True to cut it",
     {"max_length": "--max-seq-length", "truncation": "--truncate"},
     "input_ids[3] has 9 tokens, more than --max-seq-length 4; pass --truncate to cut it"),
    ("padding='max_length' needs max_length", {"padding='max_length'": "--pad",
                                               "max_length": "--max-seq-length"},
     "--pad needs --max-seq-length"),
    ("mask_replace_prob + random_replace_prob must be <= 1, got 0.9 + 0.2", None,
     "--mask-replace-prob + --random-replace-prob must be <= 1, got 0.9 + 0.2"),
    ("mask_token_id=70 is outside [0, 50)", None, "--mask-token-id 70 is outside [0, 50)"),
    # paths and longer names are left alone
    ("cannot read /data/seed/selection.jsonl or C:\\epoch\\x; see max_lengths and seed.",
     {"max_length": "--max-seq-length"},
     "cannot read /data/seed/selection.jsonl or C:\\epoch\\x; see max_lengths and --seed."),
])
def test_flag_message(message, flags, want):
    assert A.flag_message(message, flags) == want


def test_fresh_seed_is_stored():
    ns = argparse.Namespace(seed=None)
    s = A.resolve_seed(ns)
    assert ns.seed == s and 0 <= s < 2 ** 63
    assert A.resolve_seed(argparse.Namespace(seed=5)) == 5


def test_bench_engine_is_the_bench_package():
    from fastmask import bench

    assert engine() is bench


# every public name of the former fastmask/cli.py and fastmask/prep.py modules
OLD_CLI = ("BENCH_DESCRIPTION DEMO_DESCRIPTION DEMO_SENTENCES PROG SHOW_DESCRIPTION SPECIALS "
           "SimpleWordPiece Style TextTokenizer UsageError build_parser cache_dir cmd_bench "
           "cmd_demo cmd_show demo_corpus legend load_text_tokenizer main mask_texts render")
OLD_PREP = ("INPUT_FORMATS OUTPUT_FORMATS PrepStats UsageError add_parser as_table iter_static "
            "main run write_static")


def test_public_names_stay_importable():
    import fastmask.cli
    import fastmask.prep

    assert [n for n in OLD_CLI.split() if not hasattr(fastmask.cli, n)] == []
    assert [n for n in OLD_PREP.split() if not hasattr(fastmask.prep, n)] == []
    assert fastmask.prep.UsageError is fastmask.cli.UsageError
    assert issubclass(fastmask.prep.UsageError, ValueError)
