# cython: language_level=3
"""Thin Cython bindings of the C core (csrc/fastmask.h).

This layer converts Python and NumPy inputs into C buffers while holding the GIL, then calls the
C kernels with the GIL released. It holds no masking semantics of its own: those live in csrc/
(and, bit for bit, in fastmask/reference.py).
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memset

import numpy as np


def workspace_bytes(int64_t width):
    """Bytes of scratch memory one thread needs for rows of up to `width` tokens."""
    return fm_workspace_bytes(width)


def simd_path():
    """The instruction-set path the kernels use here (FASTMASK_SIMD can force one)."""
    return fm__path_name(fm__path_best()).decode()


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
        cum = None
        if kc.random_cum is not None:
            cum = np.ascontiguousarray(np.array(kc.random_cum, dtype=np.uint32).reshape(-1))
            if cum.shape[0] != vocab:
                raise ValueError("the unigram table must have one entry per id")
        self._owned = (bits, skip, cdf, table, cum)
        cdef const uint8_t[::1] bits_v = bits
        cdef const int64_t[::1] skip_v = skip
        cdef const uint64_t[::1] cdf_v = cdf
        cdef const uint8_t[::1] table_v
        cdef const uint32_t[::1] cum_v
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
        if cum is not None:
            cum_v = cum
            c.random_cum = &cum_v[0]
        else:
            c.random_cum = NULL
        classes = np.zeros(vocab, dtype=np.uint8)  # one byte per id, for the word walk
        cdef uint8_t[::1] classes_v = classes
        if fm_id_classes(c, &classes_v[0]) == FM_OK:
            c.id_class = &classes_v[0]
        self._owned += (classes,)
        # ids known not to be special without a lookup (token units, exact / span)
        fm_special_gap(c, &c.special_gap_lo, &c.special_gap_len)
        if fm_config_check_full(c) != FM_OK:
            raise ValueError("the C core rejected this configuration")


cdef inline str _where(str name, Py_ssize_t row, Py_ssize_t pos):
    return f"{name}[{row}][{pos}]"


cdef int _read_obj(object obj, long long *value) except -1:
    """Reads one Python object as an integer id; 0 on success, 1 when it is not an integer, 2
    when it does not fit in 64 bits. May run Python code (``__index__`` of an int subclass)."""
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


cdef inline PyObject **_seq_items(object seq, Py_ssize_t n, str name,
                                  Py_ssize_t i) except? NULL:
    """The item array of an exact list or tuple, after checking it still holds n items.

    Called again after every step that may have run Python code: such code can resize or clear
    a list, which frees or moves its item array."""
    if Py_SIZE(seq) != n:
        raise ValueError(f"{name}[{i}] changed length while it was being read")
    return _list_items(seq) if type(seq) is list else _tuple_items(seq)


cdef int _fill_seq(object seq, fill_t *row, Py_ssize_t n, Py_ssize_t width, bint left,
                   int64_t lo, int64_t hi, str name, Py_ssize_t i) except -1:
    """Copies the first min(n, width) ids of one list/tuple into its padded row.

    Exact ints are read straight from the item array, which runs no Python code. Any other
    element is held by a reference while it is converted (which may run Python code), and the
    item array is looked up again afterwards: no pointer into the list outlives such a call."""
    cdef Py_ssize_t m = n if n < width else width
    cdef Py_ssize_t start = fm_row_offset(m, width, left)
    cdef Py_ssize_t k = 0
    cdef long long v = 0
    cdef int rc
    cdef PyObject **items = _seq_items(seq, n, name, i)
    while k < m:
        fm_prefetch_item(items, k + 12, m)
        if fm_compact_long(items[k], &v) and lo <= v < hi:
            row[start + k] = <fill_t>v
            k += 1
            continue
        obj = <object>items[k]  # a new reference: obj stays alive whatever the list does
        rc = _read_obj(obj, &v)
        if rc == 1:
            raise TypeError(f"{_where(name, i, k)}: expected an integer id, got "
                            f"{type(obj).__name__} {obj!r}")
        if rc == 2 or v < lo or v >= hi:
            raise ValueError(f"{_where(name, i, k)}: id {obj!r} is out of range [{lo}, {hi})")
        row[start + k] = <fill_t>v
        k += 1
        items = _seq_items(seq, n, name, i)
    return 0


cdef int _fill_array(object arr, fill_t *row, Py_ssize_t width, bint left, int64_t lo,
                     int64_t hi, str name, Py_ssize_t i) except -1:
    cdef const int64_t[::1] v64
    cdef Py_ssize_t n = arr.shape[0]
    cdef Py_ssize_t m = n if n < width else width
    cdef Py_ssize_t start = fm_row_offset(m, width, left)
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


cdef inline object _row_at(list rows, Py_ssize_t i, Py_ssize_t B, str name):
    """rows[i], after checking that the list of rows still has its B entries (reading an
    element may run Python code that changes it)."""
    if Py_SIZE(rows) != B:
        raise ValueError(f"{name} changed length while it was being read")
    return rows[i]


def fill_rows(list rows, fill_t[:, ::1] out, bint left, int64_t lo, int64_t hi, int64_t pad,
              str name, Py_ssize_t first=0):
    """Writes normalised rows into the padded array `out`, truncating to its width.

    Every id is checked against [lo, hi); padding cells receive `pad` (fm_pad_cells_*). Errors
    name row `first + i` (for callers that fill a batch in slices). Returns the number of ids
    written per row (int64), as read: use it rather than lengths measured earlier.
    """
    cdef Py_ssize_t B = out.shape[0], L = out.shape[1]
    cdef Py_ssize_t i
    cdef int rc = FM_OK
    if len(rows) != B:
        raise ValueError(f"{name}: {len(rows)} sequences for {B} rows")
    kept = np.empty(B, dtype=np.int64)
    cdef int64_t[::1] kv = kept
    if B == 0 or L == 0:
        kept[:] = 0
        return kept
    for i in range(B):
        kv[i] = _fill_row(_row_at(rows, i, B, name), &out[i, 0], L, left, lo, hi, name,
                          first + i)
    with nogil:
        if fill_t is int64_t:
            rc = fm_pad_cells_i64(&out[0, 0], &kv[0], B, L, left, pad)
        elif fill_t is int32_t:
            rc = fm_pad_cells_i32(&out[0, 0], &kv[0], B, L, left, <int32_t>pad)
        else:
            rc = fm_pad_cells_u8(&out[0, 0], &kv[0], B, L, left, <uint8_t>pad)
    if rc != FM_OK:
        raise ValueError(f"{name}: {STATUS.get(rc, rc)}")
    return kept


include "_core_words.pxi"


# ---- padding and attention (csrc/pad.c) ---------------------------------------------------

def attention_from_lengths(fill_t[:, ::1] out, const int64_t[::1] lengths, bint left):
    """Writes 1 over each row's real tokens and 0 over its padding (fm_attention_*); lengths
    are clamped to [0, width]."""
    cdef Py_ssize_t B = out.shape[0], L = out.shape[1]
    cdef int rc = FM_OK
    if lengths.shape[0] != B:
        raise ValueError("lengths must have one entry per row")
    if B == 0 or L == 0:
        return
    with nogil:
        if fill_t is int64_t:
            rc = fm_attention_i64(&out[0, 0], &lengths[0], B, L, left)
        elif fill_t is int32_t:
            rc = fm_attention_i32(&out[0, 0], &lengths[0], B, L, left)
        else:
            rc = fm_attention_u8(&out[0, 0], &lengths[0], B, L, left)
    if rc != FM_OK:
        raise ValueError(f"attention: {STATUS.get(rc, rc)}")


def lengths_of_mask(const fill_t[:, ::1] mask, bint left):
    """Row lengths of a padded batch's attention mask (fm_lengths_of_mask_*); returns
    (status, row, pos, lengths), row and pos naming the first cell that breaks the rule."""
    cdef int64_t B = mask.shape[0], L = mask.shape[1], err_row = -1, err_pos = -1
    cdef int rc
    lengths = np.zeros(B, dtype=np.int64)
    cdef int64_t[::1] lv = lengths
    cdef int64_t *pl = &lv[0] if B else NULL
    cdef const fill_t *pm = &mask[0, 0] if B and L else NULL
    with nogil:
        if fill_t is int64_t:
            rc = fm_lengths_of_mask_i64(pm, B, L, left, pl, &err_row, &err_pos)
        elif fill_t is int32_t:
            rc = fm_lengths_of_mask_i32(pm, B, L, left, pl, &err_row, &err_pos)
        else:
            rc = fm_lengths_of_mask_u8(pm, B, L, left, pl, &err_row, &err_pos)
    return rc, err_row, err_pos, lengths


def unpad(arr, const int64_t[::1] lengths, bint left):
    """The real cells of a C-contiguous padded 2-D array, row after row, as a new 1-D array of
    its dtype (fm_unpad); lengths are checked by the caller."""
    cdef int64_t B = arr.shape[0], L = arr.shape[1]
    cdef int64_t total = 0, i
    if lengths.shape[0] != B:
        raise ValueError("unpad: one length per row")
    for i in range(B):
        total += lengths[i]
    out = np.empty(total, dtype=arr.dtype)
    cdef const uint8_t[::1] src = arr.reshape(-1).view(np.uint8)
    cdef uint8_t[::1] dst = out.view(np.uint8)
    cdef int es = arr.dtype.itemsize
    cdef int rc
    with nogil:
        rc = fm_unpad(&src[0] if src.shape[0] else NULL, es, B, L,
                      &lengths[0] if B else NULL, left, &dst[0] if dst.shape[0] else NULL)
    if rc != FM_OK:
        raise ValueError(f"unpad: {STATUS.get(rc, rc)}")
    return out


def pad_ragged(values, const int64_t[::1] offsets, out_t[:, ::1] out, bint left, bint truncate,
               int64_t pad_id, int64_t vocab_size, int64_t[::1] lengths_out):
    """Pads a ragged batch (values + offsets) into `out`; returns (status, row, pos)."""
    cdef int64_t rows = out.shape[0], width = out.shape[1]
    cdef int64_t err_row = -1, err_pos = -1
    cdef int rc
    cdef const uint8_t[::1] raw = np.ascontiguousarray(values).reshape(-1).view(np.uint8)
    cdef int value_bytes = values.dtype.itemsize
    cdef const void *pv = &raw[0] if raw.shape[0] else NULL
    cdef out_t *po = &out[0, 0] if rows and width else NULL
    cdef int64_t *plen = &lengths_out[0] if lengths_out.shape[0] else NULL
    if offsets.shape[0] != rows + 1:
        raise ValueError("offsets must have one more entry than there are rows")
    if values.dtype not in (np.int64, np.int32) or values.shape[0] < offsets[rows]:
        raise ValueError("values must be int32 or int64 and as long as offsets say")
    with nogil:
        rc = fm_pad_ids(pv, value_bytes, &offsets[0], rows, width, left, truncate, pad_id,
                        vocab_size, po, sizeof(out_t), plen, &err_row, &err_pos)
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
    b.values = NULL
    b.offsets = NULL


def mask_batch(CoreConfig core, uint32_t epoch, out_t[:, ::1] ids, out_t[:, ::1] labels,
               out_t[:, ::1] attention, const int64_t[::1] lengths, bint left,
               const uint8_t[:, ::1] special_mask, const uint8_t[:, ::1] word_starts,
               const uint64_t[::1] sample_ids, int64_t row_begin, int64_t row_end,
               const out_t[::1] values=None, const int64_t[::1] offsets=None):
    """Masks rows [row_begin, row_end) in place with the GIL released; with `values` and
    `offsets` (ragged rows of the ids' type) the kernel copies the rows into `ids` itself.

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
    if values is not None:
        if offsets is None or offsets.shape[0] != B + 1 or values.shape[0] < offsets[B]:
            raise ValueError("values needs offsets with one more entry than rows, within it")
        batch.values = &values[0] if values.shape[0] else NULL
        batch.offsets = &offsets[0]
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
    # 256 KiB of ids per chunk: its ids, labels and attention stay within a core's L2 cache,
    # and the chunks are few (measured: chunks of 64 KiB were about 4 % slower on 256 x 512)
    chunk = (1 << 18) // (L * <int64_t>sizeof(out_t))
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
                lengths[i] = _fill_row(_row_at(rows, i, B, name), &ids[i, 0], L, left, lo,
                                       hi, name, i)
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
    FM_ERR_SPAN: "a (start, end) span with start < 0 or end < start",
}
OK = FM_OK
ERR_ARG = FM_ERR_ARG
ERR_ID_RANGE = FM_ERR_ID_RANGE
ERR_LENGTH = FM_ERR_LENGTH
ERR_RNG = FM_ERR_RNG
ERR_WORKSPACE = FM_ERR_WORKSPACE
ERR_SPAN = FM_ERR_SPAN
