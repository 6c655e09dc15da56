# Included by _core.pyx (one extension module): the readers of per-token word-start inputs.
# ---- word starts: Python objects -> int64 buffers here, the rules in csrc/words.c ------------

cdef int _read_word_ids(object seq, Py_ssize_t n, int64_t *buf, Py_ssize_t m, str name,
                        Py_ssize_t i) except -1:
    """Reads the first m word ids of an exact list/tuple into buf, None as -1.

    Exact ints and None are read straight from the item array; any other element is held by a
    reference while it is converted (which may run Python code), and the item array is looked
    up again afterwards. n is the length the row had when buf was sized."""
    cdef PyObject **items = _seq_items(seq, n, name, i)
    cdef Py_ssize_t k = 0
    cdef long long v = 0
    cdef PyObject *item
    while k < m:
        item = items[k]
        if item == <PyObject *>None:
            buf[k] = -1
            k += 1
            continue
        if fm_compact_long(item, &v):
            buf[k] = v
            k += 1
            continue
        obj = <object>item
        if isinstance(obj, (bool, np.bool_)) or not isinstance(obj, (int, np.integer)):
            raise TypeError(f"{name}[{i}][{k}] is {type(obj).__name__} {obj!r}, "
                            "expected int or None")
        big = int(obj)
        if not (-(1 << 63) <= big < (1 << 63)):
            raise ValueError(f"{name}[{i}][{k}] = {big} does not fit in 64 bits")
        buf[k] = big
        k += 1
        items = _seq_items(seq, n, name, i)
    return 0


def word_ids_to_starts(list rows, uint8_t[:, ::1] out, bint left, str name):
    """Word-start flags from per-example word ids (lists of ints / None), padded into `out`.

    The ids are read into one int64 buffer (None as -1) and the rule of
    fm_word_starts_from_ids (csrc/words.c) applied without the GIL; padding gets 0. Rows longer
    than the width are cut.
    """
    cdef Py_ssize_t B = out.shape[0], L = out.shape[1]
    cdef Py_ssize_t i, n
    if len(rows) != B:
        raise ValueError(f"{name}: {len(rows)} sequences for {B} rows")
    seqs = [_row_at(rows, i, B, name) for i in range(B)]
    seqs = [q if type(q) is list or type(q) is tuple else list(q) for q in seqs]
    offsets = np.zeros(B + 1, dtype=np.int64)
    cdef int64_t[::1] off = offsets
    lens = [len(seq) for seq in seqs]
    for i in range(B):
        n = lens[i]
        off[i + 1] = off[i] + (n if n < L else L)
    values = np.empty(max(off[B], 1), dtype=np.int64)
    cdef int64_t[::1] vals = values
    for i in range(B):
        _read_word_ids(seqs[i], lens[i], &vals[off[i]], off[i + 1] - off[i], name, i)
    rc, row, _ = word_starts_ragged(_FROM_IDS, values, offsets, out, left, True)
    if rc != FM_OK:
        raise ValueError(f"{name}[{row}]: {STATUS.get(rc, rc)}")


cdef inline int64_t _clamp_offset(object v):
    """An offset for the span rule: values outside [0, 2^62) become -1 or 2^62, which the rule
    treats like any negative or huge offset."""
    return -1 if v < 0 else (1 << 62 if v >= (1 << 62) else v)


cdef int _read_pair(object pair, int64_t *start, int64_t *end) except -1:
    """Reads a (start, end) pair of ints; 0 on success, 1 when it is not such a pair.

    `pair` is held by the caller; a list pair is copied into a tuple first, so converting its
    elements (which may run Python code) cannot free them."""
    cdef long long a_fast = 0, b_fast = 0
    cdef PyObject **items
    if type(pair) is tuple or type(pair) is list:
        if Py_SIZE(pair) != 2:
            return 1
        if type(pair) is list:
            pair = tuple(pair)
        items = _tuple_items(pair)
        if fm_compact_long(items[0], &a_fast) and fm_compact_long(items[1], &b_fast):
            start[0] = a_fast
            end[0] = b_fast
            return 0
    else:
        return 1
    a, b = pair
    for v in (a, b):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            return 1
    start[0] = _clamp_offset(int(a))
    end[0] = _clamp_offset(int(b))
    return 0


cdef int _read_spans(object seq, Py_ssize_t n, int64_t *buf, str name,
                     Py_ssize_t i) except -1:
    """Reads the n (start, end) pairs of an exact list/tuple into buf (two int64 per token); n
    is the length the row had when buf was sized."""
    cdef PyObject **items = _seq_items(seq, n, name, i)
    cdef Py_ssize_t j
    for j in range(n):
        pair = <object>items[j]  # held: converting it may run Python code
        if _read_pair(pair, &buf[2 * j], &buf[2 * j + 1]):
            raise ValueError(f"{name}[{i}][{j}] = {pair!r} is not a (start, end) pair of "
                             "ints")
        items = _seq_items(seq, n, name, i)
    return 0


def offsets_to_starts(list rows, uint8_t[:, ::1] out, bint left, str name):
    """Word-start flags from per-example character offsets, padded into `out`.

    The pairs are read into one int64 buffer and the rule of fm_word_starts_from_spans
    (csrc/words.c) applied without the GIL: every pair must have 0 <= start <= end; padding gets
    0; rows longer than the width are cut.
    """
    cdef Py_ssize_t B = out.shape[0]
    cdef Py_ssize_t i
    if len(rows) != B:
        raise ValueError(f"{name}: {len(rows)} sequences for {B} rows")
    seqs = []
    for i in range(B):
        seq = _row_at(rows, i, B, name)
        if type(seq) is not list and type(seq) is not tuple:
            raise TypeError(f"{name}[{i}] must be a list of (start, end) pairs")
        seqs.append(seq)
    offsets = np.zeros(B + 1, dtype=np.int64)
    cdef int64_t[::1] off = offsets
    for i in range(B):
        off[i + 1] = off[i] + len(seqs[i])
    spans = np.empty(max(2 * off[B], 2), dtype=np.int64)
    cdef int64_t[::1] sp = spans
    for i in range(B):
        _read_spans(seqs[i], off[i + 1] - off[i], &sp[2 * off[i]], name, i)
    rc, err_row, err_pos = word_starts_ragged(_FROM_SPANS, spans, offsets, out, left, True)
    if rc == FM_ERR_SPAN:
        k = 2 * (off[err_row] + err_pos)
        raise ValueError(f"{name}[{err_row}][{err_pos}] = ({spans[k]}, {spans[k + 1]}): need "
                         "0 <= start <= end")
    if rc != FM_OK:
        raise ValueError(f"{name}[{err_row}]: {STATUS.get(rc, rc)}")


cdef enum:
    _FROM_IDS = 0
    _FROM_SPANS = 1
    _FROM_TABLE = 2

STARTS_FROM_WORD_IDS = _FROM_IDS
STARTS_FROM_SPANS = _FROM_SPANS
STARTS_FROM_TABLE = _FROM_TABLE


def word_starts_ragged(int kind, const int64_t[::1] values, const int64_t[::1] offsets,
                       uint8_t[:, ::1] out, bint left, bint truncate,
                       const uint8_t[::1] table=None):
    """Word-start flags of ragged rows (row i = items offsets[i] .. offsets[i+1]) padded into
    `out` by csrc/words.c; returns (status, row, pos).

    kind STARTS_FROM_WORD_IDS: values are word ids (negative = None); STARTS_FROM_SPANS: values
    are (start, end) pairs, two per item; STARTS_FROM_TABLE: values are token ids read through
    the vocabulary word `table`.
    """
    cdef int64_t B = out.shape[0], L = out.shape[1], err_row = -1, err_pos = -1
    cdef int64_t need
    cdef int rc = FM_ERR_ARG
    cdef int64_t dummy = 0
    cdef uint8_t tdummy = 0
    cdef const int64_t *pv = &values[0] if values.shape[0] else &dummy
    cdef uint8_t *po = &out[0, 0] if B and L else NULL
    if offsets.shape[0] != B + 1:
        raise ValueError("offsets must have one more entry than there are rows")
    if B == 0:
        return FM_OK, -1, -1
    need = (2 if kind == _FROM_SPANS else 1) * offsets[B]
    if offsets[B] < 0 or values.shape[0] < need:
        raise ValueError("values is shorter than offsets say")
    if kind == _FROM_TABLE and table is None:
        raise ValueError("STARTS_FROM_TABLE needs a table")
    with nogil:
        if kind == _FROM_IDS:
            rc = fm_word_starts_from_ids(pv, &offsets[0], B, L, left, truncate, po, &err_row)
        elif kind == _FROM_SPANS:
            rc = fm_word_starts_from_spans(pv, &offsets[0], B, L, left, truncate, po, &err_row,
                                           &err_pos)
        elif kind == _FROM_TABLE:
            rc = fm_word_starts_from_table(&table[0] if table.shape[0] else &tdummy,
                                           table.shape[0], pv, &offsets[0], B, L, left,
                                           truncate, po, &err_row, &err_pos)
    return rc, err_row, err_pos
