# cython: language_level=3
"""Thin Cython bindings of the C core (csrc/fastmask.h).

This layer converts Python and NumPy inputs into C buffers while holding the GIL, then calls the
C kernels with the GIL released. It holds no masking semantics of its own: those live in csrc/
(and, bit for bit, in fastmask/reference.py).
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from libc.stdint cimport INT32_MAX, INT32_MIN, int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memset

import numpy as np

cdef extern from "Python.h":
    PyObject *_list_item "PyList_GET_ITEM"(object, Py_ssize_t)
    PyObject *_tuple_item "PyTuple_GET_ITEM"(object, Py_ssize_t)
    bint _long_exact "PyLong_CheckExact"(PyObject *)
    long long _as_ll "PyLong_AsLongLongAndOverflow"(PyObject *, int *) except? -1

cdef extern from "_pyints.h":
    bint fm_compact_long(PyObject *o, long long *value) nogil
    void fm_prefetch_item(PyObject **items, Py_ssize_t k, Py_ssize_t n) nogil
    PyObject **_list_items "fm_list_items"(object)
    PyObject **_tuple_items "fm_tuple_items"(object)


def workspace_bytes(int64_t width):
    """Bytes of scratch memory one thread needs for rows of up to `width` tokens."""
    return fm_workspace_bytes(width)


cdef class CoreConfig:
    """A `fm_config` built from a :class:`fastmask._config.KernelConfig`, owning its tables."""

    def __init__(self, kc):
        cdef fm_config *c = &self.cfg
        memset(c, 0, sizeof(fm_config))
        vocab = int(kc.vocab_size)
        bits = np.zeros((vocab + 7) // 8, dtype=np.uint8)
        for s in kc.special_set:
            if 0 <= s < vocab:
                bits[s >> 3] |= 1 << (s & 7)
        skip = np.ascontiguousarray(np.array(kc.random_skip, dtype=np.int64).reshape(-1))
        cdf = np.ascontiguousarray(np.array(kc.span_cdf, dtype=np.uint64).reshape(-1))
        table = None
        if kc.word_table is not None:
            table = np.frombuffer(kc.word_table, dtype=np.uint8)
        self._owned = (bits, skip, cdf, table)
        cdef const uint8_t[::1] bits_v = bits
        cdef const int64_t[::1] skip_v = skip
        cdef const uint64_t[::1] cdf_v = cdf
        cdef const uint8_t[::1] table_v
        c.seed = kc.seed
        c.epoch = 0
        c.selection = kc.selection
        c.units = kc.units
        c.action_per_unit = 1 if kc.action_per_unit else 0
        c.t_select = kc.t_select
        c.t_mask = kc.t_mask
        c.t_random = kc.t_random
        c.probability = kc.probability
        c.max_predictions = kc.max_predictions
        c.vocab_size = vocab
        c.mask_id = kc.mask_id
        c.pad_id = kc.pad_id
        c.ignore_index = kc.ignore_index
        c.special_bits = &bits_v[0] if bits_v.shape[0] else NULL
        c.random_skip = &skip_v[0] if skip_v.shape[0] else NULL
        c.n_random_skip = skip_v.shape[0]
        c.random_range = kc.random_range
        c.span_cdf = &cdf_v[0] if cdf_v.shape[0] else NULL
        c.n_span_lengths = cdf_v.shape[0]
        if table is not None:
            table_v = table
            c.word_table = &table_v[0] if table_v.shape[0] else NULL
        else:
            c.word_table = NULL
        if fm_config_check(c) != FM_OK:
            raise ValueError("the C core rejected this configuration")


cdef inline str _where(str name, Py_ssize_t row, Py_ssize_t pos):
    return f"{name}[{row}][{pos}]"


cdef int _read_obj(PyObject *item, long long *value) except -1:
    """Reads one Python object as an integer id; 0 on success, raises TypeError otherwise."""
    cdef int overflow = 0
    if _long_exact(item):
        value[0] = _as_ll(item, &overflow)
        if overflow:
            return 2
        return 0
    obj = <object>item
    if isinstance(obj, bool) or isinstance(obj, np.bool_):
        return 1
    if isinstance(obj, (np.integer, int)):
        v = int(obj)
        if not (-(1 << 63) <= v < (1 << 63)):
            return 2
        value[0] = v
        return 0
    return 1


ctypedef fused fill_t:
    uint8_t
    int32_t
    int64_t


cdef int _fill_seq(object seq, fill_t *row, Py_ssize_t n, Py_ssize_t width, bint left,
                   int64_t lo, int64_t hi, str name, Py_ssize_t i) except -1:
    """Copies the first min(n, width) ids of one list/tuple into its padded row."""
    cdef Py_ssize_t m = n if n < width else width
    cdef Py_ssize_t start = width - m if left else 0
    cdef Py_ssize_t k
    cdef long long v = 0
    cdef int rc
    cdef bint is_list = type(seq) is list
    cdef PyObject *item
    cdef PyObject **items = _list_items(seq) if is_list else _tuple_items(seq)
    for k in range(m):
        fm_prefetch_item(items, k + 12, m)
        item = items[k]
        if fm_compact_long(item, &v) and lo <= v < hi:
            row[start + k] = <fill_t>v
            continue
        rc = _read_obj(item, &v)
        if rc == 1:
            raise TypeError(f"{_where(name, i, k)}: expected an integer id, got "
                            f"{type(<object>item).__name__} {<object>item!r}")
        if rc == 2 or v < lo or v >= hi:
            raise ValueError(f"{_where(name, i, k)}: id {<object>item!r} is out of range "
                             f"[{lo}, {hi})")
        row[start + k] = <fill_t>v
    return 0


cdef int _fill_array(object arr, fill_t *row, Py_ssize_t width, bint left, int64_t lo,
                     int64_t hi, str name, Py_ssize_t i) except -1:
    cdef const int64_t[::1] v64
    cdef Py_ssize_t n = arr.shape[0]
    cdef Py_ssize_t m = n if n < width else width
    cdef Py_ssize_t start = width - m if left else 0
    cdef Py_ssize_t k
    cdef int64_t x
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 8 and m:
        big = np.flatnonzero(arr[:m] > np.uint64(1 << 62))
        if big.shape[0]:
            k = big[0]
            raise ValueError(f"{_where(name, i, k)}: id {arr[k]} is out of range [{lo}, {hi})")
    v64 = np.ascontiguousarray(arr[:m], dtype=np.int64)
    for k in range(m):
        x = v64[k]
        if x < lo or x >= hi:
            raise ValueError(f"{_where(name, i, k)}: id {x} is out of range [{lo}, {hi})")
        row[start + k] = <fill_t>x
    return 0


cdef Py_ssize_t _fill_row(object seq, fill_t *row, Py_ssize_t width, bint left, int64_t lo,
                          int64_t hi, str name, Py_ssize_t i) except -1:
    """Copies one normalised row (list, tuple or 1-D array) into its padded row; returns the
    number of ids written, min(len(seq), width)."""
    cdef Py_ssize_t n = len(seq)
    if type(seq) is list or type(seq) is tuple:
        _fill_seq(seq, row, n, width, left, lo, hi, name, i)
    else:
        _fill_array(seq, row, width, left, lo, hi, name, i)
    return n if n < width else width


cdef object _as_row(object seq, str name, Py_ssize_t i):
    """Normalises one sequence to a list, a tuple or a 1-D integer ndarray."""
    t = type(seq)
    if t is list or t is tuple:
        return seq
    if isinstance(seq, np.ndarray) or hasattr(seq, "__array__"):
        arr = np.asarray(seq)
        if arr.ndim != 1:
            raise ValueError(f"{name}[{i}]: expected a 1-D sequence of ids, got an array of "
                             f"shape {arr.shape}")
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name}[{i}]: expected an integer array, got dtype {arr.dtype}")
        return arr
    if isinstance(seq, (str, bytes, dict)) or not hasattr(seq, "__len__"):
        raise TypeError(f"{name}[{i}]: expected a list, tuple or 1-D integer array of ids, "
                        f"got {t.__name__}")
    return list(seq)


def normalize_rows(seqs, str name):
    """Returns (rows, lengths): each row a list/tuple/1-D integer ndarray, lengths as int64."""
    rows = [_as_row(s, name, i) for i, s in enumerate(seqs)]
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    return rows, lengths


def fill_rows(list rows, fill_t[:, ::1] out, bint left, int64_t lo, int64_t hi, int64_t pad,
              str name, Py_ssize_t first=0):
    """Writes normalised rows into the padded array `out`, truncating to its width.

    Every id is checked against [lo, hi); padding cells receive `pad`. Errors name row
    `first + i` (for callers that fill a batch in slices).
    """
    cdef Py_ssize_t B = out.shape[0], L = out.shape[1]
    cdef Py_ssize_t i, m, k
    cdef fill_t *row
    if len(rows) != B:
        raise ValueError(f"{name}: {len(rows)} sequences for {B} rows")
    for i in range(B):
        row = &out[i, 0]
        m = _fill_row(rows[i], row, L, left, lo, hi, name, first + i)
        if left:
            for k in range(L - m):
                row[k] = <fill_t>pad
        else:
            for k in range(m, L):
                row[k] = <fill_t>pad


def word_ids_to_starts(list rows, uint8_t[:, ::1] out, bint left, str name):
    """Word-start flags from per-example word ids (lists of ints / None), padded into `out`.

    f[j] = 1 when word_ids[j] is None or negative, j == 0, or word_ids[j] != word_ids[j-1]
    (the rule of fastmask.words.starts_from_word_ids); padding gets 0. Rows longer than the
    width are cut.
    """
    cdef Py_ssize_t B = out.shape[0], L = out.shape[1]
    cdef Py_ssize_t i, j, n, m, start
    cdef long long v = 0, prev = -1
    cdef int overflow = 0
    cdef PyObject *item
    cdef uint8_t *row
    if len(rows) != B:
        raise ValueError(f"{name}: {len(rows)} sequences for {B} rows")
    for i in range(B):
        seq = rows[i]
        if type(seq) is not list and type(seq) is not tuple:
            seq = list(seq)
        n = len(seq)
        m = n if n < L else L
        start = L - m if left else 0
        row = &out[i, 0] if L else NULL
        if L:
            memset(row, 0, L)
        prev = -1
        for j in range(m):
            item = _list_item(seq, j) if type(seq) is list else _tuple_item(seq, j)
            if <object>item is None:
                v = -1
            elif not fm_compact_long(item, &v):
                obj = <object>item
                if isinstance(obj, (bool, np.bool_)) or not isinstance(obj, (int, np.integer)):
                    raise TypeError(f"{name}[{i}][{j}] is {type(obj).__name__} {obj!r}, "
                                    "expected int or None")
                v = _as_ll(item, &overflow) if _long_exact(item) else int(obj)
                if overflow:
                    raise ValueError(f"{name}[{i}][{j}] = {obj} does not fit in 64 bits")
            if v < 0:
                v = -1
            row[start + j] = 1 if (j == 0 or v < 0 or v != prev) else 0
            prev = v


def attention_from_lengths(out_t[:, ::1] out, const int64_t[::1] lengths, bint left):
    """Writes 1 over each row's real tokens and 0 over its padding."""
    cdef Py_ssize_t B = out.shape[0], L = out.shape[1], i, j, n
    if lengths.shape[0] != B:
        raise ValueError("lengths must have one entry per row")
    with nogil:
        for i in range(B):
            n = lengths[i]
            if n < 0:
                n = 0
            if n > L:
                n = L
            if left:
                for j in range(L - n):
                    out[i, j] = 0
                for j in range(L - n, L):
                    out[i, j] = 1
            else:
                for j in range(n):
                    out[i, j] = 1
                for j in range(n, L):
                    out[i, j] = 0


cdef int _read_pair(object pair, long long *start, long long *end) except -1:
    """Reads a (start, end) pair of ints; 0 on success, 1 when it is not such a pair."""
    cdef PyObject **items
    cdef int overflow = 0
    if type(pair) is tuple or type(pair) is list:
        if len(pair) != 2:
            return 1
        items = _tuple_items(pair) if type(pair) is tuple else _list_items(pair)
        if fm_compact_long(items[0], start) and fm_compact_long(items[1], end):
            return 0
    else:
        return 1
    a, b = pair
    for v in (a, b):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            return 1
    if not (0 <= a < (1 << 62) and 0 <= b < (1 << 62)):
        start[0] = -1 if a < 0 else (1 << 62)
        end[0] = -1 if b < 0 else (1 << 62)
        return 0
    start[0] = a
    end[0] = b
    return 0


def offsets_to_starts(list rows, uint8_t[:, ::1] out, bint left, str name):
    """Word-start flags from per-example character offsets, padded into `out`.

    The rule of fastmask.words.starts_from_offsets (without `text`): token 0 starts a word, and
    token j does when there is a gap before it (start_j > end_{j-1}), the offsets go back
    (start_j < start_{j-1}: the second text of a pair), the previous token is a (0, 0)
    special, or its own span is empty. Padding gets 0; rows longer than the width are cut.
    """
    cdef Py_ssize_t B = out.shape[0], L = out.shape[1]
    cdef Py_ssize_t i, j, n, m, start
    cdef long long s = 0, e = 0, ps = 0, pe = 0
    cdef uint8_t *row
    if len(rows) != B:
        raise ValueError(f"{name}: {len(rows)} sequences for {B} rows")
    for i in range(B):
        seq = rows[i]
        if type(seq) is not list and type(seq) is not tuple:
            raise TypeError(f"{name}[{i}] must be a list of (start, end) pairs")
        n = len(seq)
        m = n if n < L else L
        start = L - m if left else 0
        if L == 0:
            continue
        row = &out[i, 0]
        memset(row, 0, L)
        for j in range(n):
            pair = seq[j]
            if _read_pair(pair, &s, &e):
                raise ValueError(f"{name}[{i}][{j}] = {pair!r} is not a (start, end) pair of "
                                 "ints")
            if s < 0 or e < s:
                raise ValueError(f"{name}[{i}][{j}] = ({s}, {e}): need 0 <= start <= end")
            if j < m:
                if j == 0:
                    row[start] = 1
                else:
                    row[start + j] = 1 if (s > pe or s < ps or (ps == pe and pe == 0)
                                           or s == e) else 0
            ps = s
            pe = e


def pad_ragged(values, const int64_t[::1] offsets, out_t[:, ::1] out, bint left, bint truncate,
               int64_t pad_id, int64_t vocab_size, int64_t[::1] lengths_out):
    """Pads a ragged batch (values + offsets) into `out`; returns (status, row, pos)."""
    cdef int64_t rows = out.shape[0], width = out.shape[1]
    cdef int64_t err_row = -1, err_pos = -1
    cdef int rc
    cdef const int64_t[::1] v64
    cdef const int32_t[::1] v32
    cdef int64_t dummy64 = 0
    cdef int32_t dummy32 = 0
    cdef const int64_t *p64 = &dummy64
    cdef const int32_t *p32 = &dummy32
    cdef out_t *po = &out[0, 0] if rows and width else NULL
    cdef int64_t *plen = &lengths_out[0] if lengths_out.shape[0] else NULL
    cdef bint wide = values.dtype == np.int64
    if offsets.shape[0] != rows + 1:
        raise ValueError("offsets must have one more entry than there are rows")
    if wide:
        v64 = values
        if v64.shape[0]:
            p64 = &v64[0]
    else:
        v32 = values
        if v32.shape[0]:
            p32 = &v32[0]
    with nogil:
        if out_t is int64_t:
            if wide:
                rc = fm_pad_i64_i64(p64, &offsets[0], rows, width, left, truncate, pad_id,
                                    vocab_size, po, plen, &err_row, &err_pos)
            else:
                rc = fm_pad_i32_i64(p32, &offsets[0], rows, width, left, truncate, pad_id,
                                    vocab_size, po, plen, &err_row, &err_pos)
        else:
            if wide:
                rc = fm_pad_i64_i32(p64, &offsets[0], rows, width, left, truncate, pad_id,
                                    vocab_size, po, plen, &err_row, &err_pos)
            else:
                rc = fm_pad_i32_i32(p32, &offsets[0], rows, width, left, truncate, pad_id,
                                    vocab_size, po, plen, &err_row, &err_pos)
    return rc, err_row, err_pos


def pad_u8(const uint8_t[::1] values, const int64_t[::1] offsets, uint8_t[:, ::1] out,
           bint left, bint truncate, uint8_t fill):
    """Pads ragged uint8 flags into `out`; returns (status, row)."""
    cdef int64_t rows = out.shape[0], width = out.shape[1], err_row = -1
    cdef uint8_t dummy = 0
    cdef const uint8_t *pv = &values[0] if values.shape[0] else &dummy
    cdef uint8_t *po = &out[0, 0] if rows and width else NULL
    cdef int rc
    if offsets.shape[0] != rows + 1:
        raise ValueError("offsets must have one more entry than there are rows")
    with nogil:
        rc = fm_pad_u8(pv, &offsets[0], rows, width, left, truncate, fill, po, &err_row)
    return rc, err_row


cdef inline void _describe(fm_batch *b, int64_t rows, int64_t width, const int64_t *lengths,
                           bint left, const uint8_t *special_mask, const uint8_t *word_starts,
                           const uint64_t *sample_ids) noexcept nogil:
    """Fills an fm_batch with the shape and side buffers of a padded batch."""
    b.rows = rows
    b.width = width
    b.lengths = lengths
    b.left = left
    b.special_mask = special_mask
    b.word_starts = word_starts
    b.sample_ids = sample_ids


def mask_batch(CoreConfig core, uint32_t epoch, out_t[:, ::1] ids, out_t[:, ::1] labels,
               out_t[:, ::1] attention, const int64_t[::1] lengths, bint left,
               const uint8_t[:, ::1] special_mask, const uint8_t[:, ::1] word_starts,
               const uint64_t[::1] sample_ids, int64_t row_begin, int64_t row_end):
    """Masks rows [row_begin, row_end) in place with the GIL released.

    Returns (status, row, pos) as reported by the C core.
    """
    cdef fm_config cfg = core.cfg
    cdef fm_batch batch
    cdef int64_t err_row = -1, err_pos = -1
    cdef int rc
    cdef size_t nbytes = fm_workspace_bytes(ids.shape[1])
    cdef void *ws
    cdef out_t *p_ids
    cdef out_t *p_labels
    cdef out_t *p_att
    cdef int64_t B = ids.shape[0], L = ids.shape[1]
    cfg.epoch = epoch
    if lengths.shape[0] != B or sample_ids.shape[0] != B:
        raise ValueError("lengths and sample_ids must have one entry per row")
    if labels.shape[0] != B or labels.shape[1] != L:
        raise ValueError("labels must have the shape of ids")
    if attention is not None and (attention.shape[0] != B or attention.shape[1] != L):
        raise ValueError("attention must have the shape of ids")
    if B == 0 or L == 0 or row_begin >= row_end:
        return FM_OK, -1, -1
    _describe(&batch, B, L, &lengths[0], left,
              &special_mask[0, 0] if special_mask is not None else NULL,
              &word_starts[0, 0] if word_starts is not None else NULL, &sample_ids[0])
    p_ids = &ids[0, 0]
    p_labels = &labels[0, 0]
    p_att = &attention[0, 0] if attention is not None else NULL
    ws = PyMem_Malloc(nbytes if nbytes else 1)
    if ws == NULL:
        raise MemoryError()
    try:
        with nogil:
            if out_t is int64_t:
                rc = fm_mask_batch_i64(&cfg, &batch, row_begin, row_end, p_ids, p_labels,
                                       p_att, ws, nbytes, &err_row, &err_pos)
            else:
                rc = fm_mask_batch_i32(&cfg, &batch, row_begin, row_end, p_ids, p_labels,
                                       p_att, ws, nbytes, &err_row, &err_pos)
    finally:
        PyMem_Free(ws)
    return rc, err_row, err_pos


def fill_mask_rows(CoreConfig core, uint32_t epoch, list rows, out_t[:, ::1] ids,
                   out_t[:, ::1] labels, out_t[:, ::1] attention, int64_t[::1] lengths,
                   bint left, const uint8_t[:, ::1] special_mask,
                   const uint8_t[:, ::1] word_starts, const uint64_t[::1] sample_ids,
                   int64_t lo, int64_t hi, str name):
    """Reads normalised rows into `ids` and masks them, a few rows at a time.

    Each chunk of rows is read with the GIL held (checking every id against [lo, hi)) and
    masked right away with the GIL released, while it is still in cache. `lengths` receives
    each row's (truncated) length. Returns (status, row, pos) as reported by the C core.
    """
    cdef fm_config cfg = core.cfg
    cdef fm_batch batch
    cdef int64_t B = ids.shape[0], L = ids.shape[1]
    cdef int64_t err_row = -1, err_pos = -1, begin, end, chunk, i
    cdef int rc = FM_OK
    cdef size_t nbytes = fm_workspace_bytes(L)
    cdef void *ws
    cdef out_t *p_ids
    cdef out_t *p_labels
    cdef out_t *p_att
    if len(rows) != B or lengths.shape[0] != B or sample_ids.shape[0] != B:
        raise ValueError("rows, lengths and sample_ids must have one entry per row")
    if labels.shape[0] != B or labels.shape[1] != L or attention.shape[0] != B \
            or attention.shape[1] != L:
        raise ValueError("labels and attention must have the shape of ids")
    if B == 0 or L == 0:
        for i in range(B):
            lengths[i] = 0
        return FM_OK, -1, -1
    cfg.epoch = epoch
    _describe(&batch, B, L, &lengths[0], left,
              &special_mask[0, 0] if special_mask is not None else NULL,
              &word_starts[0, 0] if word_starts is not None else NULL, &sample_ids[0])
    p_ids = &ids[0, 0]
    p_labels = &labels[0, 0]
    p_att = &attention[0, 0]
    chunk = (1 << 16) // (L * <int64_t>sizeof(out_t))
    if chunk < 1:
        chunk = 1
    ws = PyMem_Malloc(nbytes if nbytes else 1)
    if ws == NULL:
        raise MemoryError()
    try:
        begin = 0
        while begin < B:
            end = begin + chunk if begin + chunk < B else B
            for i in range(begin, end):
                lengths[i] = _fill_row(rows[i], &ids[i, 0], L, left, lo, hi, name, i)
            with nogil:
                if out_t is int64_t:
                    rc = fm_mask_batch_i64(&cfg, &batch, begin, end, p_ids, p_labels, p_att,
                                           ws, nbytes, &err_row, &err_pos)
                else:
                    rc = fm_mask_batch_i32(&cfg, &batch, begin, end, p_ids, p_labels, p_att,
                                           ws, nbytes, &err_row, &err_pos)
            if rc != FM_OK:
                break
            begin = end
    finally:
        PyMem_Free(ws)
    return rc, err_row, err_pos


# ---- the generator, exposed for tests -----------------------------------------------------

def philox4x32_10(ctr, key):
    """Philox4x32-10 of a 4-word counter and a 2-word key; returns 4 words."""
    cdef uint32_t c[4]
    cdef uint32_t k[2]
    cdef uint32_t o[4]
    for i in range(4):
        c[i] = ctr[i]
    k[0] = key[0]
    k[1] = key[1]
    fm_philox4x32_10(c, k, o)
    return (o[0], o[1], o[2], o[3])


def stream_block(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain, uint32_t block):
    """The four words W(domain, block) of docs/semantics.md section 2."""
    cdef uint32_t o[4]
    fm_stream_block(seed, epoch, sid, domain, block, o)
    return (o[0], o[1], o[2], o[3])


def bounded(uint64_t seed, uint32_t epoch, uint64_t sid, uint32_t domain, uint32_t block,
            uint32_t range_, uint32_t x):
    """bounded(R, x, D, b) of docs/semantics.md section 4."""
    cdef uint32_t r = 0
    if fm_bounded(seed, epoch, sid, domain, block, range_, x, &r) != FM_OK:
        raise RuntimeError("bounded draw ran out of retry words")
    return r


STATUS = {
    FM_OK: "ok",
    FM_ERR_ARG: "bad argument",
    FM_ERR_ID_RANGE: "id out of range",
    FM_ERR_LENGTH: "sequence longer than the padded width",
    FM_ERR_RNG: "random draw ran out of retry words",
    FM_ERR_WORKSPACE: "workspace too small",
}
OK = FM_OK
ERR_ID_RANGE = FM_ERR_ID_RANGE
ERR_LENGTH = FM_ERR_LENGTH
