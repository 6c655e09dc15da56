"""Masking Arrow batches (fastmask/arrow.py): tables, record batches, datasets.map batches."""

import numpy as np
import pyarrow as pa
import pytest
from conftest import SPECIALS, VOCAB, make_masker, random_batch

from fastmask import arrow as fa
from fastmask import words


@pytest.fixture
def rows():
    return random_batch(np.random.default_rng(0), n=60, lo=0, hi=40)


def per_row(masker, rows, sids, epoch=0, **side):
    """What the Masker gives each row on its own: (ids, labels) lists."""
    out = []
    for k, (row, sid) in enumerate(zip(rows, sids)):
        kw = {name: [v[k]] for name, v in side.items()}
        r = masker([row], sample_ids=[sid], epoch=epoch, **kw)
        n = len(row) if masker.layout.padding != "max_length" else r["input_ids"].shape[1]
        out.append((r["input_ids"][0, :n].tolist(), r["labels"][0, :n].tolist()))
    return out


def pylist(col):
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        return col.to_pylist()
    return [np.asarray(r).tolist() for r in col]


def columns(res, ids="input_ids", labels="labels"):
    return list(zip(pylist(res[ids]), pylist(res[labels])))


@pytest.mark.parametrize("typ", [pa.list_(pa.int32()), pa.list_(pa.int64()),
                                 pa.large_list(pa.int64()), pa.list_(pa.uint16())])
def test_table_matches_the_masker_row_by_row(impl, rows, typ):
    m = make_masker(impl, mlm_probability=0.3)
    t = pa.table({"input_ids": pa.array(rows, type=typ), "n": np.arange(len(rows))})
    res = fa.mask_batch(t, 100, masker=m, epoch=3)
    assert isinstance(res, pa.Table)
    assert res.column_names == ["input_ids", "n", "labels"]
    assert res.column("n").to_pylist() == list(range(len(rows)))
    assert columns(res) == per_row(m, rows, range(100, 100 + len(rows)), epoch=3)
    assert pa.types.is_large_list(res.column("input_ids").type) == pa.types.is_large_list(typ)


def test_sliced_chunked_and_fixed_size(rows):
    m = make_masker(__import__("fastmask"))
    t = pa.table({"input_ids": pa.array(rows, type=pa.list_(pa.int64()))})
    whole = columns(fa.mask_batch(t, 0, masker=m))
    sl = t.slice(13, 30)
    assert columns(fa.mask_batch(sl, 13, masker=m)) == whole[13:43]
    rb = t.to_batches()[0].slice(5, 9)
    res = fa.mask_batch(rb, 5, masker=m)
    assert isinstance(res, pa.RecordBatch) and columns(res) == whole[5:14]
    chunked = pa.Table.from_batches(t.to_batches(max_chunksize=7))
    assert chunked.column(0).num_chunks > 1
    assert columns(fa.mask_batch(chunked, 0, masker=m)) == whole
    fixed_rows = [r[:5] for r in rows if len(r) >= 5]
    fixed = pa.table({"input_ids": pa.array(fixed_rows, type=pa.list_(pa.int32(), 5))})
    assert columns(fa.mask_batch(fixed, 0, masker=m)) == per_row(m, fixed_rows,
                                                               range(len(fixed_rows)))


def test_zero_copy_read():
    vals = np.arange(5, 105, dtype=np.int32)
    arr = pa.ListArray.from_arrays(pa.array(np.arange(0, 101, 10, dtype=np.int32)),
                                   pa.array(vals)).slice(2, 5)
    v, o = fa.list_column(arr)
    assert np.shares_memory(v, vals)
    assert v.tolist() == list(range(25, 75)) and o.tolist() == [0, 10, 20, 30, 40, 50]


def test_mapping_in_and_out(rows):
    import fastmask

    m = make_masker(fastmask)
    batch = {"input_ids": rows, "text": ["x"] * len(rows)}
    res = fa.mask_batch(batch, list(range(len(rows))), masker=m)
    assert set(res) == {"input_ids", "labels"}
    assert isinstance(res["labels"], list) and isinstance(res["labels"][0], np.ndarray)
    assert columns(res) == per_row(m, rows, range(len(rows)))
    full = fa.mask_batch(batch, 0, masker=m, keep_columns=True)
    assert full["text"] is batch["text"] and set(full) == {"input_ids", "labels", "text"}
    t = pa.table({"input_ids": rows, "text": ["x"] * len(rows)})
    only = fa.mask_batch(t, 0, masker=m, keep_columns=False)
    assert only.column_names == ["input_ids", "labels"]
    # a 2-D array (rows of one length) and numpy object rows
    arr = np.array([r[:4] for r in rows if len(r) >= 4])
    res2 = fa.mask_batch({"input_ids": arr}, 0, masker=m)
    assert columns(res2) == per_row(m, arr.tolist(), range(len(arr)))
    obj = np.empty(3, dtype=object)
    obj[:] = [np.asarray(r) for r in rows[:3]]
    assert columns(fa.mask_batch({"input_ids": obj}, 0, masker=m)) == \
        per_row(m, rows[:3], range(3))


def test_sample_id_forms(rows):
    import fastmask

    m = make_masker(fastmask)
    t = pa.table({"input_ids": rows, "sid": np.arange(500, 500 + len(rows))})
    want = per_row(m, rows, range(500, 500 + len(rows)))
    for sids in (500, "sid", list(range(500, 500 + len(rows))), np.arange(500, 560),
                 pa.array(np.arange(500, 560))):
        assert columns(fa.mask_batch(t, sids, masker=m)) == want
    with pytest.raises(ValueError, match="with_indices=True"):
        fa.mask_batch(t, masker=m)
    with pytest.raises(ValueError, match="no column 'nope'"):
        fa.mask_batch(t, "nope", masker=m)
    with pytest.raises(ValueError, match="sample_ids"):
        fa.mask_batch(t, [1, 2], masker=m)
    with pytest.raises(ValueError, match=">= 0"):
        fa.mask_batch(t, -1, masker=m)


def test_nulls_and_types_are_errors():
    import fastmask

    m = make_masker(fastmask)
    with pytest.raises(ValueError, match=r"input_ids\[2\] is null"):
        fa.mask_batch(pa.table({"input_ids": [[5, 6], [7], None, [8]]}), 0, masker=m)
    with pytest.raises(ValueError, match=r"input_ids\[1\]\[2\] is null"):
        fa.mask_batch(pa.table({"input_ids": [[5, 6], [7, 8, None]]}), 0, masker=m)
    sliced = pa.table({"input_ids": [[1], [5, None], [7, 8, None]]}).slice(2)
    with pytest.raises(ValueError, match=r"input_ids\[0\]\[2\] is null"):
        fa.mask_batch(sliced, 0, masker=m)
    with pytest.raises(TypeError, match="integers"):
        fa.mask_batch(pa.table({"input_ids": [[5.0, 6.0]]}), 0, masker=m)
    with pytest.raises(TypeError, match="list<int>"):
        fa.mask_batch(pa.table({"input_ids": ["abc"]}), 0, masker=m)
    with pytest.raises(ValueError, match="no column 'ids'"):
        fa.mask_batch(pa.table({"input_ids": [[5]]}), 0, masker=m, column="ids")
    with pytest.raises(ValueError, match="out of range"):
        fa.mask_batch(pa.table({"input_ids": [[5, VOCAB + 3]]}), 0, masker=m)
    with pytest.raises(TypeError, match="Table/RecordBatch or a mapping"):
        fa.mask_batch([[5, 6]], 0, masker=m)
    with pytest.raises(ValueError, match="layout"):
        fa.mask_batch(pa.table({"input_ids": [[5]]}), 0, masker=m, layout="weird")


def test_special_tokens_mask_and_token_type_columns(impl, rows):
    m = make_masker(impl, mlm_probability=0.5)
    rng = np.random.default_rng(1)
    spec = [rng.integers(0, 2, size=len(r)).tolist() for r in rows]
    types = [[0] * (len(r) // 2) + [1] * (len(r) - len(r) // 2) for r in rows]
    t = pa.table({"input_ids": rows,
                  "special_tokens_mask": pa.array(spec, type=pa.list_(pa.int8())),
                  "token_type_ids": types})
    res = fa.mask_batch(t, 0, masker=m)
    assert columns(res) == per_row(m, rows, range(len(rows)), special_tokens_mask=spec)
    for lab, s in zip(res.column("labels").to_pylist(), spec):
        assert all(x == -100 for x, f in zip(lab, s) if f)
    assert res.column("token_type_ids").to_pylist() == types  # untouched, passed through
    bools = t.set_column(1, "special_tokens_mask",
                         pa.array([[bool(x) for x in s] for s in spec]))
    assert columns(fa.mask_batch(bools, 0, masker=m)) == columns(res)
    ignored = fa.mask_batch(t, 0, masker=m, special_tokens_mask_column=None)
    assert columns(ignored) == per_row(m, rows, range(len(rows)))
    bad = t.set_column(1, "special_tokens_mask", pa.array([s[:-1] if k == 7 and s else s
                                                           for k, s in enumerate(spec)]))
    with pytest.raises(ValueError, match=r"special_tokens_mask\[7\] has"):
        fa.mask_batch(bad, 0, masker=m)


def test_whole_word_columns(impl, rows):
    m = make_masker(impl, whole_word=True, mlm_probability=0.4)
    rng = np.random.default_rng(2)
    wids = []
    for r in rows:
        w, cur = [], -1
        for tok in r:
            if tok in SPECIALS:
                w.append(None)
            else:
                cur += int(rng.integers(0, 2)) if cur >= 0 else 1
                w.append(cur)
        wids.append(w)
    t = pa.table({"input_ids": rows, "word_ids": wids})
    res = fa.mask_batch(t, 0, masker=m)
    assert columns(res) == per_row(m, rows, range(len(rows)), word_ids=wids)
    starts = [words.starts_from_word_ids(w).tolist() if w else [] for w in wids]
    t2 = pa.table({"input_ids": rows, "word_starts": pa.array(starts, type=pa.list_(pa.uint8()))})
    assert columns(fa.mask_batch(t2, 0, masker=m)) == columns(res)
    with pytest.raises(ValueError, match="whole_word=True needs word boundaries"):
        fa.mask_batch(pa.table({"input_ids": rows}), 0, masker=m)


def test_word_starts_from_word_ids_matches_words_module():
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(40):
        n = int(rng.integers(0, 12))
        rows.append([None if rng.random() < 0.2 else int(x) for x in
                     np.sort(rng.integers(0, 5, size=n))])
    flat = np.array([-1 if w is None else w for r in rows for w in r], dtype=np.int64)
    off = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=off[1:])
    got = fa.word_starts_from_word_ids(flat, off)
    want = np.concatenate([words.starts_from_word_ids(r) for r in rows if r])
    assert got.tolist() == want.tolist()


def test_sparse_layout(impl, rows):
    m = make_masker(impl, selection="exact", max_predictions=5, mlm_probability=0.3)
    t = pa.table({"input_ids": rows})
    dense = fa.mask_batch(t, 0, masker=m)
    sp = fa.mask_batch(t, 0, masker=m, layout="sparse", max_predictions_per_seq=7)
    assert sp.column_names == ["input_ids", "masked_lm_positions", "masked_lm_ids",
                               "masked_lm_weights"]
    assert sp.column("input_ids").to_pylist() == dense.column("input_ids").to_pylist()
    assert sp.schema.field("masked_lm_positions").type == pa.list_(pa.int64(), 7)
    for lab, pos, mid, w in zip(dense.column("labels").to_pylist(),
                                sp.column("masked_lm_positions").to_pylist(),
                                sp.column("masked_lm_ids").to_pylist(),
                                sp.column("masked_lm_weights").to_pylist()):
        picked = [j for j, x in enumerate(lab) if x != -100]
        k = len(picked)
        assert pos[:k] == picked and mid[:k] == [lab[j] for j in picked]
        assert w == [1.0] * k + [0.0] * (7 - k)
        assert pos[k:] == [0] * (7 - k) and mid[k:] == [0] * (7 - k)
    default_p = fa.mask_batch(t, 0, masker=m, layout="sparse")
    assert default_p.schema.field("masked_lm_ids").type.list_size == 5
    with pytest.raises(ValueError, match="more than max_predictions_per_seq=2"):
        fa.mask_batch(t, 0, masker=m, layout="sparse", max_predictions_per_seq=2)
    with pytest.raises(ValueError, match="needs max_predictions_per_seq"):
        fa.mask_batch(t, 0, masker=make_masker(impl), layout="sparse")


def test_padded_and_truncated_rows(rows):
    import fastmask

    types = [[0] * len(r) for r in rows]
    t = pa.table({"input_ids": rows, "token_type_ids": types})
    m = make_masker(fastmask, padding="max_length", max_length=48, dtype="int32")
    res = fa.mask_batch(t, 0, masker=m)
    ids = res.column("input_ids").to_pylist()
    assert all(len(r) == 48 for r in ids)
    assert res.column("attention_mask").to_pylist() == [[1] * len(r) + [0] * (48 - len(r))
                                                        for r in rows]
    assert res.schema.field("input_ids").type == pa.list_(pa.int32())
    assert all(len(r) == 48 for r in res.column("token_type_ids").to_pylist())
    assert columns(res) == per_row(m, rows, range(len(rows)))
    # truncation without padding: ragged rows cut at max_length, side columns cut too
    mt = make_masker(fastmask, max_length=20, truncation=True)
    res = fa.mask_batch(t, 0, masker=mt)
    got = res.column("input_ids").to_pylist()
    assert [len(r) for r in got] == [min(len(r), 20) for r in rows]
    assert [len(r) for r in res.column("token_type_ids").to_pylist()] == [len(r) for r in got]
    for r, one in zip(got, per_row(make_masker(fastmask), [r[:20] for r in rows],
                                   range(len(rows)))):
        assert r == one[0]
    # left padding: sparse positions count from the row's own first token
    ml = make_masker(fastmask, padding_side="left", selection="exact", max_predictions=4)
    dense = fa.mask_batch(t, 0, masker=ml)
    sp = fa.mask_batch(t, 0, masker=ml, layout="sparse")
    for lab, pos in zip(dense.column("labels").to_pylist(),
                        sp.column("masked_lm_positions").to_pylist()):
        picked = [j for j, x in enumerate(lab) if x != -100]
        assert pos[:len(picked)] == picked


def test_empty_batch():
    import fastmask

    m = make_masker(fastmask)
    t = pa.table({"input_ids": pa.array([], type=pa.list_(pa.int32()))})
    res = fa.mask_batch(t, 0, masker=m)
    assert res.num_rows == 0 and res.column_names == ["input_ids", "labels"]


def test_datasets_map_is_independent_of_workers_and_batch_size(tmp_path):
    datasets = pytest.importorskip("datasets")
    import fastmask

    rows = random_batch(np.random.default_rng(5), n=300, lo=1, hi=30)
    ds = datasets.Dataset.from_dict({"input_ids": rows, "text": [str(i) for i in range(300)]})
    m = make_masker(fastmask, mlm_probability=0.25)
    kw = dict(batched=True, with_indices=True, fn_kwargs={"masker": m, "epoch": 4},
              load_from_cache_file=False)
    a = ds.map(fa.mask_batch, batch_size=100, num_proc=1, **kw)
    b = ds.map(fa.mask_batch, batch_size=37, num_proc=2, **kw)
    c = ds.with_format("arrow").map(fa.mask_batch, batch_size=50, **kw).with_format(None)
    assert a.column_names == ["input_ids", "text", "labels"]
    for col in ("input_ids", "labels"):
        assert a[col] == b[col] == c[col]
    assert a["text"] == ds["text"]
    want = per_row(m, rows, range(300), epoch=4)
    assert list(zip(a["input_ids"], a["labels"])) == want
