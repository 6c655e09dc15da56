"""The benchmark engine: data generation, the NumPy peer, timing, results, report and chart."""

import importlib.util
import json
import os

import numpy as np
import pytest

from fastmask import bench as bm
from fastmask.bench import NumpyMasker

VOCAB = bm.SyntheticVocab()
SPECIALS = VOCAB.special_ids


# ---------------------------------------------------------------------------------------------
# synthetic data


def test_length_distribution_is_realistic():
    rng = np.random.default_rng(1)
    for L in (128, 512, 2048):
        n = np.concatenate([bm.synthetic_lengths(rng, 256, L) for _ in range(40)])
        assert n.min() >= 8 and n.max() <= L
        assert 0.64 < n.mean() / L < 0.72
        assert 0.38 < (n == L).mean() < 0.48  # truncated documents
        assert (n < L // 4).mean() > 0.05  # and a tail of short ones


def test_synthetic_batch_is_deterministic_and_well_formed():
    a = bm.synthetic_batch(VOCAB, 3, 64, 128, 0)
    b = bm.synthetic_batch(VOCAB, 3, 64, 128, 0)
    c = bm.synthetic_batch(VOCAB, 3, 64, 128, 1)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.offsets, b.offsets)
    assert not np.array_equal(a.offsets, c.offsets)
    assert a.offsets[0] == 0 and a.offsets[-1] == a.values.shape[0] == a.tokens
    assert (a.lengths <= 128).all()
    assert (a.values[a.offsets[:-1]] == VOCAB.CLS).all()
    assert (a.values[a.offsets[1:] - 1] == VOCAB.SEP).all()
    inner = np.ones(a.tokens, bool)
    inner[a.offsets[:-1]] = False
    inner[a.offsets[1:] - 1] = False
    assert not np.isin(a.values[inner], SPECIALS).any()
    assert a.values.min() >= 0 and a.values.max() < VOCAB.vocab_size


def test_token_mix_has_words_of_several_pieces():
    v = VOCAB.draw(np.random.default_rng(0), 200_000)
    table = np.frombuffer(VOCAB.word_table, np.uint8)[v]
    assert 0.12 < (table == 0).mean() < 0.20  # continuation pieces
    assert 0.07 < (table == 2).mean() < 0.13  # punctuation
    # Zipf-like: the most frequent word-start id is far more common than the median one
    counts = np.bincount(v, minlength=VOCAB.vocab_size)[VOCAB.WORDS[0]:VOCAB.WORDS[1]]
    assert counts.max() > 100 * max(np.median(counts), 1)


def test_word_table_matches_fastmask_words():
    words = pytest.importorskip("fastmask.words")
    assert words.word_table(VOCAB.tokens, convention="wordpiece") == VOCAB.word_table


def test_char_offsets_encode_the_same_words_as_the_table():
    words = pytest.importorskip("fastmask.words")
    raw = bm.synthetic_batch(VOCAB, 0, 16, 64, 0)
    spans = VOCAB.char_offsets(raw.values, raw.offsets)
    table = VOCAB.word_table
    for i in range(16):
        s, e = raw.offsets[i], raw.offsets[i + 1]
        ids = raw.values[s:e].tolist()
        from_table = words.starts_from_table(ids, table)
        from_offsets = words.starts_from_offsets([tuple(x) for x in spans[s:e].tolist()])
        # [CLS]/[SEP] have empty spans; the token after [CLS] starts a word whatever the table
        # says (the core enforces that), so compare the rest
        real = slice(2, len(ids) - 1)
        assert np.array_equal(np.asarray(from_table)[real], np.asarray(from_offsets)[real])


def test_scenario_data_forms_agree():
    sc = bm.Scenario(8, 32, "tokens", "list")
    d = bm.ScenarioData(bm.DataSource.synthetic(0), sc, 2)
    raw = d.raw[0]
    flat = [t for row in d.lists(0) for t in row]
    assert flat == raw.values.tolist()
    assert np.array_equal(np.concatenate(d.arrays(0)), raw.values)
    arr, lens = d.padded(0)
    assert arr.shape == (8, 32) and np.array_equal(lens, raw.lengths)
    assert arr[np.arange(32)[None, :] < lens[:, None]].tolist() == flat
    ex = d.hf_examples(0)
    assert [e["input_ids"] for e in ex] == d.lists(0)
    assert all(sum(e["special_tokens_mask"]) == 2 for e in ex)
    wwm = d.hf_wwm_examples(0)
    W = int(lens.max())
    assert all(len(e["input_ids"]) == W == len(e["offset_mapping"]) for e in wwm)


# ---------------------------------------------------------------------------------------------
# token files


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_load_token_file_formats(tmp_path):
    rows = [[5, 6, 7], [8], [9, 10]]
    want_v, want_o = [5, 6, 7, 8, 9, 10], [0, 3, 4, 6]
    paths = [
        _write(tmp_path, "a.txt", "5 6 7\n\n8\n9 10\n"),
        _write(tmp_path, "a.json", json.dumps(rows)),
        _write(tmp_path, "a.jsonl", "[5, 6, 7]\n{\"input_ids\": [8]}\n[9, 10]\n"),
    ]
    npz = tmp_path / "a.npz"
    np.savez(npz, values=np.array(want_v), offsets=np.array(want_o))
    paths.append(str(npz))
    for p in paths:
        v, o = bm.load_token_file(p)
        assert v.tolist() == want_v and o.tolist() == want_o, p


@pytest.mark.parametrize("name, text, message", [
    ("bad.txt", "1 2 x\n", "bad.txt:1: expected whitespace-separated integer ids"),
    ("bad.jsonl", "[1, 2]\nnot json\n", "bad.jsonl:2: not JSON"),
    ("bad.json", "{\"a\": 1}", "must hold a list of lists"),
    ("neg.txt", "1 -2\n", "must be >= 0"),
    ("empty.txt", "\n\n", "no sequences"),
])
def test_load_token_file_errors(tmp_path, name, text, message):
    with pytest.raises(bm.BenchError, match=message):
        bm.load_token_file(_write(tmp_path, name, text))


def test_load_token_file_missing(tmp_path):
    with pytest.raises(bm.BenchError, match="does not exist"):
        bm.load_token_file(str(tmp_path / "nope.txt"))
    with pytest.raises(bm.BenchError, match="is a directory"):
        bm.load_token_file(str(tmp_path))


def test_file_source_batches_wrap_and_truncate(tmp_path):
    p = _write(tmp_path, "ids.txt", "1 2 3 4 5\n6 7\n8 9 10\n")
    src = bm.DataSource.from_file(p)
    assert src.vocab_size == 12 and src.mask_id == 11  # a fresh id stands for [MASK]
    b = src.batch(4, 3, 0)
    assert b.lengths.tolist() == [3, 2, 3, 3]
    assert b.values.tolist() == [1, 2, 3, 6, 7, 8, 9, 10, 1, 2, 3]
    b1 = src.batch(4, 3, 1)  # continues after the 4th sequence
    assert b1.values[:2].tolist() == [6, 7]
    with pytest.raises(bm.BenchError, match="not below the vocabulary size"):
        bm.DataSource.from_file(p, vocab_size=5, mask_id=1)


# ---------------------------------------------------------------------------------------------
# the NumPy peer


def _batch(seed=0, B=64, L=96):
    raw = bm.synthetic_batch(VOCAB, seed, B, L, 0)
    v, o = raw.values.tolist(), raw.offsets.tolist()
    return raw, [v[o[i]:o[i + 1]] for i in range(B)]


def _numpy(**kw):
    kw.setdefault("special_ids", SPECIALS)
    kw.setdefault("seed", 0)
    return NumpyMasker(VOCAB.vocab_size, VOCAB.MASK, **kw)


def test_numpy_masker_contract():
    raw, lists = _batch()
    out = _numpy()(lists)
    ids, labels, att = out["input_ids"], out["labels"], out["attention_mask"]
    B, W = ids.shape
    assert W == raw.lengths.max() and ids.dtype == np.int64
    valid = np.arange(W)[None, :] < raw.lengths[:, None]
    assert np.array_equal(att, valid.astype(np.int64))
    assert (ids[~valid] == VOCAB.PAD).all() and (labels[~valid] == -100).all()
    orig = np.full((B, W), VOCAB.PAD)
    orig[valid] = raw.values
    picked = labels != -100
    assert np.array_equal(labels[picked], orig[picked])
    assert np.array_equal(ids[~picked], orig[~picked])
    assert not np.isin(orig[picked], SPECIALS).any()
    assert not np.isin(ids[picked & (ids != VOCAB.MASK)], SPECIALS).any()


def test_numpy_masker_rates():
    raw, lists = _batch(B=512, L=256)
    out = _numpy()(lists)
    labels, ids = out["labels"], out["input_ids"]
    picked = labels != -100
    cand = (np.asarray(out["attention_mask"]) == 1).sum() - 2 * 512
    assert abs(picked.sum() / cand - 0.15) < 0.01
    masked = (ids[picked] == VOCAB.MASK).mean()
    kept = (ids[picked] == labels[picked]).mean()
    assert abs(masked - 0.8) < 0.02 and abs(kept - 0.1) < 0.02


def test_numpy_masker_input_forms_agree():
    raw, lists = _batch()
    m = dict(mlm_probability=0.0)
    ref = _numpy(**m)(lists)["input_ids"]
    arrays = [np.asarray(r) for r in lists]
    assert np.array_equal(_numpy(**m)(arrays)["input_ids"], ref)
    assert np.array_equal(_numpy(**m)(raw.values, offsets=raw.offsets)["input_ids"], ref)
    B, L = len(lists), 96
    arr = np.zeros((B, L), np.int64)
    for i, r in enumerate(lists):
        arr[i, :len(r)] = r
    assert np.array_equal(_numpy(**m)(arr, lengths=raw.lengths)["input_ids"], ref)
    left = _numpy(padding_side="left", **m)(lists)
    W = ref.shape[1]
    for i, r in enumerate(lists):
        assert left["input_ids"][i, W - len(r):].tolist() == r
        assert left["attention_mask"][i, :W - len(r)].sum() == 0


def test_numpy_masker_whole_word_picks_whole_units():
    words = pytest.importorskip("fastmask.words")
    raw, lists = _batch(B=128)
    out = _numpy(whole_word=True, word_table=VOCAB.word_table, mlm_probability=0.3)(lists)
    labels = out["labels"]
    for i, r in enumerate(lists):
        starts = np.asarray(words.starts_from_table(r, VOCAB.word_table)).astype(bool)
        picked = labels[i, :len(r)] != -100
        special = np.isin(r, SPECIALS)
        unit = np.cumsum(starts | special)
        for u in np.unique(unit[picked]):
            members = (unit == u) & ~special
            assert picked[members].all(), (i, u)


def test_numpy_masker_int32_and_errors():
    _, lists = _batch(B=4)
    assert _numpy(dtype="int32")(lists)["input_ids"].dtype == np.int32
    with pytest.raises(ValueError, match="out of range"):
        _numpy()([[1, 2, VOCAB.vocab_size]])
    with pytest.raises(ValueError, match="needs word_starts or a word_table"):
        _numpy(whole_word=True)(lists)


# ---------------------------------------------------------------------------------------------
# timing


def test_time_steady_cycles_batches_and_keeps_two_outputs():
    seen = []
    alive = [0]

    class Out:
        def __init__(self):
            alive[0] += 1

        def __del__(self):
            alive[0] -= 1

    def fn(i):
        seen.append(i)
        return Out()

    peak = []
    orig = fn

    def watched(i):
        peak.append(alive[0])
        return orig(i)

    t = bm.Timing(repeat=7, warmup=2, min_time=0.0, max_time=10.0, keep=2)
    times = bm.time_steady(watched, 3, t)
    assert len(times) == 7 and all(x >= 0 for x in times)
    assert seen == [k % 3 for k in range(9)]
    assert max(peak) == 2  # the last two outputs are alive while the next one is made
    assert alive[0] == 0


def test_time_steady_respects_max_time():
    import time as _t

    t = bm.Timing(repeat=100, warmup=0, min_time=0.0, max_time=0.05)
    times = bm.time_steady(lambda i: _t.sleep(0.02), 1, t)
    assert 3 <= len(times) <= 4


def test_token_scaling_fit():
    scs = [{"id": f"s{k}", "masking": "tokens", "inputs": "list", "tokens": float(n)}
           for k, n in enumerate((1000, 4000, 16000, 64000))]
    res = [{"scenario": s["id"], "peer": "fastmask", "mode": "steady",
            "median_ms": 0.01 + 5e-6 * s["tokens"]} for s in scs]
    res.append({"scenario": "s0", "peer": "numpy", "mode": "fresh", "median_ms": 9.0})
    (fit,) = bm.token_scaling(res, scs)
    assert fit["ns_per_token"] == pytest.approx(5.0)
    assert fit["intercept_us"] == pytest.approx(10.0)
    assert fit["r2"] == pytest.approx(1.0)
    assert len(fit["points"]) == 4
    assert fit["exponent"] < 1.0  # the constant part makes small batches relatively slower


# ---------------------------------------------------------------------------------------------
# a whole run


TINY = dict(batch_sizes=(64, 8), max_lengths=(32,), maskings=("tokens", "words"),
            inputs=("list", "ragged"), peers=("fastmask", "numpy", "pad-floor", "copy-floor"),
            timing=bm.Timing(repeat=2, warmup=1, min_time=0.0, max_time=0.0),
            fresh="none", threads=(1, 2))


@pytest.fixture(scope="module")
def tiny_doc():
    return bm.run(bm.Settings(**TINY), progress=False)


def test_run_produces_valid_results(tiny_doc):
    doc = tiny_doc
    assert bm.validate_results(doc) == []
    assert json.loads(json.dumps(doc)) == doc
    assert len(doc["scenarios"]) == 8
    steady = [r for r in doc["results"] if r["mode"] == "steady"]
    assert {r["peer"] for r in steady} == {"fastmask", "numpy", "pad-floor", "copy-floor"}
    assert all(r["calls"] >= 2 for r in steady)
    for r in steady:
        if r["peer"] == "fastmask":
            assert r["vs_fastmask"] == 1.0
        assert r["mtok_per_s"] > 0
    th = doc["scaling"]["threads"]
    assert {r["threads"] for r in th} == {1, 2}
    assert all(r["scenario"].startswith("B64-") for r in th)
    assert doc["headline"] in {s["id"] for s in doc["scenarios"]}
    assert doc["machine"]["logical_cpus"] >= 1 and doc["machine"]["numpy"] == np.__version__


def test_report_lists_machine_and_every_scenario(tiny_doc):
    text = bm.format_report(tiny_doc)
    assert "machine: " in text and tiny_doc["machine"]["cpu"] in text
    assert "fastmask (C core)" in text and "time / fastmask" in text
    assert "whole-word masking" in text and "Threads: Masker(num_threads=N)" in text
    assert text.count(" ragged ") >= 4


def test_json_round_trip_and_validation(tiny_doc, tmp_path):
    p = str(tmp_path / "r.json")
    bm.save_json(tiny_doc, p)
    assert bm.load_json(p) == tiny_doc
    broken = dict(tiny_doc, results=[{"scenario": "nope", "peer": "x", "mode": "later"}])
    problems = bm.validate_results(broken)
    assert any("unknown scenario" in m for m in problems)
    assert any("median_ms" in m for m in problems)
    assert bm.validate_results([]) == ["the document is not a JSON object"]
    bad = tmp_path / "bad.json"
    bad.write_text("{\"schema\": 1}")
    with pytest.raises(bm.BenchError, match="not a fastmask benchmark result"):
        bm.load_json(str(bad))


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_chart_is_written(tiny_doc, tmp_path):
    p = str(tmp_path / "sub" / "chart.png")
    bm.plot_chart(tiny_doc, p)
    with open(p, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(p) > 10_000


def test_fresh_process_timing():
    src = bm.DataSource.synthetic(0)
    runs = bm.time_fresh("fastmask", bm.Scenario(8, 32, "tokens", "list"), src, bm.Context(),
                         runs=1, calls=3)
    assert len(runs) == 1 and len(runs[0]) == 3 and all(t > 0 for t in runs[0])


def test_missing_peer_is_reported_not_run(monkeypatch):
    monkeypatch.setattr(bm.NumpyPeer, "missing", lambda self: "pip install numpy-thing")
    doc = bm.run(bm.Settings(**dict(TINY, batch_sizes=(8,), maskings=("tokens",),
                                    inputs=("list",), threads=())), progress=False)
    (p,) = [p for p in doc["peers"] if p["name"] == "numpy"]
    assert p["available"] is False and "pip install" in p["note"]
    assert "numpy" not in {r["peer"] for r in doc["results"]}
    assert "skipped NumPy-vectorized pad + mask: pip install numpy-thing" in bm.format_report(doc)


def test_failing_peer_does_not_sink_the_run(monkeypatch):
    def boom(self, data, ctx):
        raise RuntimeError("kaputt")

    monkeypatch.setattr(bm.CopyFloorPeer, "prepare", boom)
    doc = bm.run(bm.Settings(**dict(TINY, batch_sizes=(8,), maskings=("tokens",),
                                    inputs=("list",), threads=())), progress=False)
    assert any(s["peer"] == "copy-floor" and "kaputt" in s["reason"] for s in doc["skipped"])
    assert bm.validate_results(doc) == []


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None or
                    importlib.util.find_spec("tokenizers") is None,
                    reason="needs transformers and tokenizers")
def test_hugging_face_peers_run():
    src = bm.DataSource.synthetic(0)
    ctx = bm.Context()
    for name, masking in (("hf", "tokens"), ("hf-wwm", "words")):
        data = bm.ScenarioData(src, bm.Scenario(8, 32, masking, "list"), 2)
        out = bm.PEERS[name].prepare(data, ctx)(0)
        labels = np.asarray(out["labels"])
        assert labels.shape == (8, data.raw[0].lengths.max())


def test_progress_without_tqdm_is_quiet_off_a_terminal(monkeypatch, capsys):
    import builtins
    import io

    real_import = builtins.__import__

    def no_tqdm(name, *a, **kw):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    buf = io.StringIO()
    with bm.Progress(3, "x", stream=buf) as p:
        p.set("step")
        p.update()
    assert buf.getvalue() == ""

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    with bm.Progress(2, "bench", stream=tty) as p:
        p.set("a")
        p.update(2)
    assert "2/2" in tty.getvalue() and "bench" in tty.getvalue()


def test_other_cpu_share():
    # 10 s of wall-clock CPU time, 4 s busy, 1 s of it ours: others used 30 %
    assert bm.other_cpu_share((100.0, 1000.0, 5.0), (104.0, 1010.0, 6.0)) == pytest.approx(0.3)
    assert bm.other_cpu_share(None, (1.0, 2.0, 3.0)) is None
    assert bm.other_cpu_share((0.0, 1.0, 0.0), (0.0, 1.0, 0.0)) is None


def test_busy_machine_warning(tiny_doc):
    doc = dict(tiny_doc, machine=dict(tiny_doc["machine"], other_cpu_share=0.25))
    assert "other processes used 25 % of the machine's CPU time" in bm.format_report(doc)
    doc = dict(tiny_doc, machine=dict(tiny_doc["machine"], other_cpu_share=0.01))
    assert "warning" not in bm.format_report(doc)


def test_time_interleaved_takes_turns_and_checks_first_outputs():
    calls = []
    checked = []

    def make(name):
        def fn(i):
            calls.append((name, i))
            return (name, i)
        return fn

    t = bm.Timing(repeat=4, warmup=1, min_time=0.0, max_time=10.0, keep=2)
    times = bm.time_interleaved([make("a"), make("b")], 3, t,
                                [checked.append, None])
    assert [len(x) for x in times] == [4, 4]
    assert checked == [("a", 0)]  # the first output of the first function only
    timed = calls[2:]  # after one warm-up round
    # rounds alternate which function goes first, each on the same batch
    assert timed == [("a", 0), ("b", 0), ("b", 1), ("a", 1), ("a", 2), ("b", 2), ("b", 0),
                     ("a", 0)]
