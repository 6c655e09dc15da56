"""The floors of each input form as rows of the same run, fastmask's ratios to them in the
headline, and the DataLoader scenario (issue 13, item 4). Tiny sizes: this checks the code, not
the figures."""

import numpy as np
import pytest

from fastmask import bench as bm
from fastmask.bench.verify import WrongOutput

QUICKEST = bm.Timing(repeat=2, warmup=1, min_time=0.0, max_time=0.0)


def _steady(sid, peer, median, least=None):
    return {"scenario": sid, "peer": peer, "mode": "steady", "median_ms": median,
            "min_ms": least if least is not None else median}


def _sc(sid, inputs, masking="tokens"):
    return {"id": sid, "batch_size": 8, "max_length": 32, "masking": masking, "inputs": inputs}


def test_floor_ratios_pick_the_floor_of_each_input_form():
    scs = [_sc("l", "list"), _sc("r", "ragged"), _sc("lw", "list", "words"), _sc("n", "ndarray")]
    res = [_steady("l", "fastmask", 3.0, 2.0), _steady("l", "pad-floor", 2.0, 1.0),
           _steady("l", "copy-floor", 0.5),
           _steady("r", "fastmask", 2.0), _steady("r", "pad-floor", 1.0),
           _steady("r", "copy-floor", 0.5),
           _steady("lw", "fastmask", 4.5), _steady("lw", "pad-floor", 2.0),
           _steady("n", "fastmask", 1.0),  # no floor ran here
           {"scenario": "l", "peer": "fastmask", "mode": "fresh", "median_ms": 99.0,
            "min_ms": 99.0}]
    rows = {r["scenario"]: r for r in bm.floor_ratios(res, scs)}
    assert set(rows) == {"l", "r", "lw", "n"}
    assert rows["l"]["floor"] == "pad-floor" and rows["l"]["vs_floor"] == pytest.approx(1.5)
    assert rows["l"]["vs_floor_min"] == pytest.approx(2.0)
    assert rows["l"]["vs_copy_floor"] == pytest.approx(6.0)
    assert rows["r"]["floor"] == "copy-floor" and rows["r"]["vs_floor"] == pytest.approx(4.0)
    assert rows["r"]["vs_pad_floor"] == pytest.approx(2.0)
    assert rows["lw"]["vs_tokens"] == pytest.approx(1.5)  # whole-word over token masking
    assert rows["l"]["vs_tokens"] is None
    assert rows["n"]["floor"] == "copy-floor" and rows["n"]["vs_floor"] is None
    assert bm.FLOOR_OF == {"list": "pad-floor", "arrays": "pad-floor", "ndarray": "copy-floor",
                           "ragged": "copy-floor"}


@pytest.fixture(scope="module")
def doc():
    return bm.run(bm.Settings(batch_sizes=(8,), max_lengths=(32,), maskings=("tokens", "words"),
                              inputs=("list", "ndarray", "ragged"),
                              peers=("fastmask", "pad-floor", "copy-floor"), timing=QUICKEST,
                              fresh="none", threads=(), loader_workers=()), progress=False)


def test_every_input_form_runs_both_floors_and_the_headline_shows_the_ratios(doc):
    steady = {(r["scenario"], r["peer"]) for r in doc["results"] if r["mode"] == "steady"}
    for s in doc["scenarios"]:
        for peer in ("fastmask", "pad-floor", "copy-floor"):
            assert (s["id"], peer) in steady
    assert len(doc["floors"]) == 6 and all(r["vs_floor"] > 0 for r in doc["floors"])
    assert all(r["vs_tokens"] > 0 for r in doc["floors"] if r["masking"] == "words")
    assert bm.validate_results(doc) == []
    text = bm.format_report(doc)
    head = text.index("fastmask against its floor")
    assert head < text.index("ms/batch")  # the ratios come first
    table = text[head:text.index("\n\n", head)].splitlines()
    assert len(table) == 3 + 6
    assert "pad floor" in table[3] and table[3].split()[0] == "list"
    ragged = next(line for line in table if line.split()[0] == "ragged")
    assert "copy floor" in ragged
    assert doc["loader"] == [] and "DataLoader," not in text


torch = pytest.importorskip("torch")


def _data(B=8, L=32):
    return bm.ScenarioData(bm.DataSource.synthetic(0), bm.Scenario(B, L, "tokens", "list"), 2)


def test_dataloader_scenario_with_0_and_2_workers():
    names = ["fastmask", "shm-floor"]
    from importlib.util import find_spec
    if find_spec("transformers") is not None:
        names.insert(1, "hf")
    rows, skipped = bm.run_loader(_data(), bm.Context(), QUICKEST, workers=(0, 2), names=names,
                                  batches=3)
    assert skipped == []
    assert {(r["peer"], r["workers"]) for r in rows} == {(n, w) for n in names for w in (0, 2)}
    for r in rows:
        assert r["batches_per_epoch"] == 3 and r["epochs"] >= 1 and r["batches_per_s"] > 0
        if r["peer"] == "shm-floor":
            assert r["vs_floor"] == 1.0
    doc = {"loader": rows}
    lines = bm.loader_table(doc)
    assert lines[0].startswith("DataLoader, B8-L32-tokens-list")
    assert "0 workers" in lines[1] and "2 workers" in lines[1]
    assert len(lines) == 3 + len(names)


def test_epochs_timed():
    from fastmask.bench.loader import time_loader

    examples = [{"input_ids": [1, 2, 3]}] * 8
    fast = bm.SharedFloorCollate()
    times, n = time_loader(fast, examples, 4, 0, bm.Timing(repeat=3, max_time=60.0))
    assert n == 2 and len(times) == 3  # repeat epochs, max_time not reached
    times, _ = time_loader(fast, examples, 4, 0, bm.Timing(repeat=50, max_time=60.0))
    assert len(times) == 5  # at most 5

    def slow(batch):
        import time
        time.sleep(0.02)
        return fast(batch)

    times, _ = time_loader(slow, examples, 4, 0, bm.Timing(repeat=5, max_time=0.01))
    assert len(times) == 1  # the warm-up epoch alone took over twice max_time
    times, _ = time_loader(fast, examples, 4, 0, bm.Timing(repeat=5, max_time=10.0))
    assert len(times) == 5


def test_floor_collate_allocates_in_shared_memory_in_a_worker():
    examples = [{"input_ids": [1] * n} for n in (3, 5, 4, 2)]
    main = bm.SharedFloorCollate()(examples)
    assert {k: tuple(v.shape) for k, v in main.items()} == {
        "input_ids": (4, 5), "labels": (4, 5), "attention_mask": (4, 5)}
    assert main["input_ids"].dtype == torch.int64
    loader = torch.utils.data.DataLoader(examples, batch_size=2, num_workers=1,
                                         collate_fn=bm.SharedFloorCollate())
    batches = list(loader)
    assert [tuple(b["labels"].shape) for b in batches] == [(2, 5), (2, 4)]
    assert all(b["input_ids"].is_shared() for b in batches)


def test_a_wrong_collator_is_reported(monkeypatch):
    from fastmask.bench import loader

    real = loader.make_collate

    def broken(name, data, ctx):
        c = real(name, data, ctx)

        def collate(examples):
            out = c(examples)
            out["labels"] = torch.full_like(out["labels"], -100)
            return out
        return collate

    monkeypatch.setattr(loader, "make_collate", broken)
    rows, skipped = bm.run_loader(_data(), bm.Context(), QUICKEST, workers=(0,),
                                  names=["fastmask"], batches=2)
    assert rows == []
    (s,) = skipped
    assert s["peer"] == "loader:fastmask" and s["reason"].startswith("failed: WrongOutput")


def test_check_of_a_loader_batch():
    d = _data()
    ok = loader_out = bm.PEERS["fastmask"].prepare(d, bm.Context())(0)
    from fastmask.bench.loader import check_loader_batch

    check_loader_batch("fastmask", {k: torch.from_numpy(v) for k, v in ok.items()}, d)
    bad = {k: np.array(v) for k, v in loader_out.items()}
    bad["attention_mask"][0, 0] = 0
    with pytest.raises(WrongOutput):
        check_loader_batch("fastmask", bad, d)
    with pytest.raises(WrongOutput, match="shape"):
        check_loader_batch("shm-floor", {k: v[:, :-1] for k, v in ok.items()}, d)


def test_run_includes_the_dataloader_scenario_on_the_headline():
    doc = bm.run(bm.Settings(batch_sizes=(8,), max_lengths=(32,), maskings=("tokens",),
                             inputs=("list",), peers=("fastmask",), timing=QUICKEST,
                             fresh="none", threads=(), loader_workers=(0,), loader_batches=2),
                 progress=False)
    assert {r["peer"] for r in doc["loader"]} == {"fastmask", "shm-floor"}  # no "hf" asked
    assert all(r["scenario"] == doc["headline"] and r["workers"] == 0 for r in doc["loader"])
    assert doc["settings"]["loader_workers"] == [0]
    assert bm.validate_results(doc) == []
    assert "DataLoader, B8-L32-tokens-list" in bm.format_report(doc)
