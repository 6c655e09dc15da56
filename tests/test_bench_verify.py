"""The output checks the benchmarks run before timing a peer (fastmask.bench.verify)."""

import numpy as np
import pytest

from fastmask import bench as bm
from fastmask.bench.verify import WrongOutput, check_masked, check_padded, check_same

SRC = bm.DataSource.synthetic(0)


def _data(masking="tokens", B=16, L=64):
    return bm.ScenarioData(SRC, bm.Scenario(B, L, masking, "list"), 1)


def _facts(**kw):
    return dict(vocab_size=SRC.vocab_size, mask_id=SRC.mask_id, pad_id=SRC.pad_id,
                special_ids=SRC.special_ids, **kw)


def _fastmask(data, **kw):
    return bm.FastmaskPeer().prepare(data, bm.Context(**kw))(0)


def _copy(out):
    return {k: np.array(v) for k, v in out.items()}


def test_correct_outputs_pass():
    d = _data()
    check_masked(_fastmask(d), d.raw[0], **_facts())
    w = _data("words")
    check_masked(_fastmask(w), w.raw[0], **_facts(word_table=SRC.word_table))
    check_padded(bm.PadFloorPeer().prepare(d, bm.Context())(0), d.raw[0], SRC.pad_id)


@pytest.mark.parametrize("how, message", [
    ("label", "labels differ"),
    ("unpicked", "unpicked token was changed"),
    ("special", "special token or padding was picked"),
    ("padding", "special token or padding was picked"),
    ("attention", "attention_mask"),
    ("random", "random replacement is a special id"),
    ("nothing", "nothing was picked"),
    ("shape", "shape"),
])
def test_each_broken_rule_is_caught(how, message):
    d = _data()
    out = _copy(_fastmask(d))
    ids, labels, att = out["input_ids"], out["labels"], out["attention_mask"]
    picked = labels != -100
    lens = d.raw[0].lengths
    r, c = map(int, np.argwhere(picked)[0])
    if how == "label":
        labels[r, c] += 1
    elif how == "unpicked":
        r2, c2 = map(int, np.argwhere(~picked & (att == 1))[0])
        ids[r2, c2] = (ids[r2, c2] + 1) % SRC.vocab_size
    elif how == "special":  # position 0 holds [CLS]
        labels[0, 0] = ids[0, 0]
    elif how == "padding":
        short = int(np.argmin(lens))
        labels[short, -1] = SRC.pad_id
    elif how == "attention":
        att[0, 0] = 0
    elif how == "random":
        ids[r, c] = SRC.special_ids[1]
    elif how == "nothing":
        ids[picked] = labels[picked]
        labels[:] = -100
    else:
        out = {k: v[:, :-1] for k, v in out.items()}
    with pytest.raises(WrongOutput, match=message):
        check_masked(out, d.raw[0], **_facts())


def test_a_word_picked_in_part_is_caught():
    w = _data("words")
    out = _copy(_fastmask(w, seed=3))
    check_masked(out, w.raw[0], **_facts(word_table=SRC.word_table))
    ids, labels = out["input_ids"], out["labels"]
    table = np.frombuffer(SRC.word_table, np.uint8)
    # a picked continuation piece after a picked piece of its word, unpicked: the word is now
    # picked in part
    orig = np.where(labels != -100, labels, ids)
    picked = labels != -100
    same_word = np.zeros_like(picked)
    same_word[:, 1:] = picked[:, 1:] & picked[:, :-1] & (table[orig[:, 1:]] == 0) & \
        (table[orig[:, :-1]] != 2)
    r, c = map(int, np.argwhere(same_word)[0])
    ids[r, c], labels[r, c] = orig[r, c], -100
    with pytest.raises(WrongOutput, match="picked in part"):
        check_masked(out, w.raw[0], **_facts(word_table=SRC.word_table))
    check_masked(out, w.raw[0], **_facts())  # token masking does not ask for whole words


def test_check_same():
    d = _data()
    a = _fastmask(d)
    check_same(a, _copy(a), "itself")
    b = _copy(a)
    b["labels"][0, 1] = 7
    with pytest.raises(WrongOutput, match="labels differs from the reference"):
        check_same(a, b, "the reference")


def test_a_peer_with_wrong_output_is_reported_not_timed(monkeypatch):
    real = bm.NumpyPeer.prepare

    def broken(self, data, ctx):
        fn = real(self, data, ctx)

        def run(i):
            out = fn(i)
            out["labels"][:] = -100  # nothing picked, yet the ids are masked
            return out
        return run

    monkeypatch.setattr(bm.NumpyPeer, "prepare", broken)
    doc = bm.run(bm.Settings(batch_sizes=(16,), max_lengths=(64,), maskings=("tokens",),
                             inputs=("list",), peers=("fastmask", "numpy"),
                             timing=bm.Timing(repeat=2, warmup=1, min_time=0, max_time=0),
                             fresh="none", threads=()), progress=False)
    assert "numpy" not in {r["peer"] for r in doc["results"]}
    (s,) = [s for s in doc["skipped"] if s["peer"] == "numpy"]
    assert s["reason"].startswith("failed: WrongOutput:")
