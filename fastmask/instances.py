"""Training instances built from documents: BERT's sentence pairs, ALBERT's sentence order.

BERT's ``create_pretraining_data.py`` turns documents (lists of sentences, each a list of token
ids) into fixed-budget training instances ``[CLS] A [SEP] B [SEP]``: it fills a chunk with whole
sentences up to a target length (occasionally a shorter one, ``short_seq_prob``), splits the
chunk at a random sentence boundary into segment A and segment B, and for next-sentence
prediction (NSP) replaces B half of the time with a run of sentences from another document.
ALBERT's sentence-order prediction (SOP) keeps B from the same document and instead swaps A and
B half of the time. :func:`create_instances` implements both (``task="nsp"`` / ``"sop"``) and a
single-segment variant (``task="single"``: ``[CLS] chunk [SEP]``, the same packing without a
second segment), with the exact control flow of the original scripts.

Randomness is counter-based, like the masking itself: document ``d`` draws from its own
generator, NumPy's ``Philox`` (4x64-10) bit generator with ``key = (seed, d)`` and
``counter = (0, 0, 0, variant)``. So the instances of a document depend only on the seed, the
variant, the document's sentences and the sentence lengths of the corpus (for NSP's random
segments), never on how the corpus is split into chunks or processes. Only the raw 64-bit words
(``random_raw``), whose stream NumPy keeps stable across releases, are used; the draws are
documented in docs/prep.md.

Only NumPy is required; :meth:`Instances.to_arrow` and :meth:`Documents.from_arrow` import
pyarrow when they are called.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ._checks import check_int, offsets_array

__all__ = ["TASKS", "LABEL_COLUMNS", "Documents", "Instances", "create_instances"]

#: Instance kinds: next-sentence pairs, sentence-order pairs, single segments.
TASKS = ("nsp", "sop", "single")

#: Name of the per-instance label column of each task (the names Hugging Face models use).
LABEL_COLUMNS = {"nsp": "next_sentence_label", "sop": "sentence_order_label", "single": None}

_M64 = (1 << 64) - 1
_SCALE53 = 1.0 / (1 << 53)


# ---------------------------------------------------------------------------------------------
# per-document random stream


class _DocDraws:
    """The draws of one document: words of ``Philox(key=(seed, doc), counter=(0,0,0,variant))``.

    * ``uniform()``: ``(w >> 11) * 2**-53`` of the next word ``w``, a double in ``[0, 1)``;
    * ``integer(lo, hi)``: uniform in ``[lo, hi]`` (inclusive), by Lemire's multiply-and-reject
      on 64-bit words (a rejected word is replaced by the next one);
    * ``heads(n)``: the number of set bits among the next ``ceil(n / 64)`` words, the last one
      reduced to its low ``n mod 64`` bits: a Binomial(n, 1/2) draw.
    """

    __slots__ = ("_bg", "_buf", "_pos")

    def __init__(self, seed: int, doc: int, variant: int):
        key = np.array([seed, doc], dtype=np.uint64)
        counter = np.array([0, 0, 0, variant], dtype=np.uint64)
        self._bg = np.random.Philox(key=key, counter=counter)
        self._buf: List[int] = []
        self._pos = 0

    def word(self) -> int:
        if self._pos == len(self._buf):
            self._buf = self._bg.random_raw(16).tolist()
            self._pos = 0
        w = self._buf[self._pos]
        self._pos += 1
        return w

    def uniform(self) -> float:
        return (self.word() >> 11) * _SCALE53

    def integer(self, lo: int, hi: int) -> int:
        r = hi - lo + 1
        m = self.word() * r
        if (m & _M64) < r:
            t = ((1 << 64) - r) % r
            while (m & _M64) < t:
                m = self.word() * r
        return lo + (m >> 64)

    def heads(self, n: int) -> int:
        total = 0
        while n >= 64:
            total += bin(self.word()).count("1")
            n -= 64
        if n:
            total += bin(self.word() & ((1 << n) - 1)).count("1")
        return total


# ---------------------------------------------------------------------------------------------
# the corpus


@dataclass(frozen=True)
class Documents:
    """A corpus in flat form: documents of sentences of token ids.

    ``values`` holds every token id of the corpus, sentence after sentence;
    ``sentence_offsets[s] .. sentence_offsets[s+1]`` are the tokens of sentence ``s``, and
    ``document_offsets[d] .. document_offsets[d+1]`` are the sentences of document ``d`` (the
    layout of an Arrow ``list<list<int>>`` column). ``word_starts``, when given, holds one 0/1
    word-start flag per token (aligned with ``values``) and is carried into the instances.
    """

    values: np.ndarray
    sentence_offsets: np.ndarray
    document_offsets: np.ndarray
    word_starts: Optional[np.ndarray] = None

    def __post_init__(self):
        v = np.asarray(self.values)
        if v.ndim != 1 or (v.shape[0] and v.dtype.kind not in "iu"):
            raise TypeError(f"values must be a 1-D integer array, got dtype {v.dtype} shape "
                            f"{v.shape}")
        if v.dtype not in (np.int32, np.int64):
            if v.dtype.kind == "u" and v.dtype.itemsize == 8 and v.shape[0] and \
                    int(v.max()) > np.iinfo(np.int64).max:
                raise ValueError("values: an id does not fit in int64")
            v = v.astype(np.int64)
        object.__setattr__(self, "values", v)
        so = offsets_array("sentence_offsets", self.sentence_offsets, v.shape[0])
        object.__setattr__(self, "sentence_offsets", so)
        object.__setattr__(self, "document_offsets",
                           offsets_array("document_offsets", self.document_offsets, so.shape[0] - 1))
        if self.word_starts is not None:
            ws = np.asarray(self.word_starts)
            if ws.shape != v.shape:
                raise ValueError(f"word_starts must be aligned with values ({v.shape[0]} "
                                 f"entries), got shape {ws.shape}")
            if ws.dtype.kind not in "biu":
                raise TypeError(f"word_starts must hold 0/1 flags, got dtype {ws.dtype}")
            object.__setattr__(self, "word_starts", ws.astype(np.uint8, copy=False))

    def __len__(self) -> int:
        return int(self.document_offsets.shape[0] - 1)

    @property
    def num_sentences(self) -> int:
        return int(self.sentence_offsets.shape[0] - 1)

    @property
    def num_tokens(self) -> int:
        return int(self.values.shape[0])

    @classmethod
    def from_lists(cls, documents: Sequence[Sequence[Sequence[int]]]) -> "Documents":
        """From Python documents: a list of documents, each a list of sentences of ids."""
        if isinstance(documents, (str, bytes)) or not hasattr(documents, "__len__"):
            raise TypeError("documents must be a list of documents (lists of sentences)")
        doc_off = [0]
        sent_lens: List[int] = []
        flat: List[Any] = []
        for d, doc in enumerate(documents):
            if isinstance(doc, (str, bytes)) or not hasattr(doc, "__len__"):
                raise TypeError(f"documents[{d}] must be a list of sentences (lists of ids)")
            for s, sent in enumerate(doc):
                if isinstance(sent, (str, bytes)) or not hasattr(sent, "__len__"):
                    raise TypeError(f"documents[{d}][{s}] must be a list of token ids, got "
                                    f"{type(sent).__name__}")
                sent_lens.append(len(sent))
                flat.append(sent)
            doc_off.append(len(sent_lens))
        so = np.zeros(len(sent_lens) + 1, dtype=np.int64)
        np.cumsum(np.asarray(sent_lens, dtype=np.int64), out=so[1:])
        if flat:
            values = np.asarray([t for sent in flat for t in
                                 (sent.tolist() if isinstance(sent, np.ndarray) else sent)])
            if values.shape[0] == 0:
                values = values.astype(np.int64)
            if values.ndim != 1 or values.dtype.kind not in "iu":
                raise TypeError("documents must hold integer token ids, got values of dtype "
                                f"{values.dtype}")
        else:
            values = np.zeros(0, dtype=np.int64)
        return cls(values, so, np.asarray(doc_off, dtype=np.int64))

    @classmethod
    def from_arrow(cls, array: Any, word_starts: Any = None) -> "Documents":
        """From an Arrow ``list<list<int>>`` array (or chunked array / one-column table).

        The offsets and values are read without copying them into Python objects. Nulls are an
        error naming the document.
        """
        from . import arrow as _arrow

        docs, sents, values = _arrow.nested_lists(array, "documents", levels=2)
        ws = None
        if word_starts is not None:
            d2, s2, ws = _arrow.nested_lists(word_starts, "word_starts", levels=2)
            if not (np.array_equal(d2, docs) and np.array_equal(s2, sents)):
                raise ValueError("word_starts must have the same document and sentence "
                                 "lengths as the documents")
        return cls(values, sents, docs, ws)

    def drop_empty_sentences(self) -> "Documents":
        """The same corpus without zero-length sentences (BERT skips empty lines)."""
        lens = np.diff(self.sentence_offsets)
        keep = lens > 0
        if bool(keep.all()):
            return self
        so = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
        np.cumsum(lens[keep], out=so[1:])
        kept = np.zeros(lens.shape[0] + 1, dtype=np.int64)
        np.cumsum(keep, out=kept[1:])
        return Documents(self.values, so, kept[self.document_offsets], self.word_starts)


def _as_documents(documents: Any) -> Documents:
    if isinstance(documents, Documents):
        return documents
    mod = type(documents).__module__ or ""
    if mod.startswith("pyarrow"):
        return Documents.from_arrow(documents)
    return Documents.from_lists(documents)


# ---------------------------------------------------------------------------------------------
# the instances


@dataclass
class Instances:
    """A set of instances in flat form (values + offsets, like an Arrow list column).

    ``input_ids[offsets[i]:offsets[i+1]]`` is instance ``i`` with its ``[CLS]``/``[SEP]``;
    ``token_type_ids`` (0 for ``[CLS]`` A ``[SEP]``, 1 for B ``[SEP]``) and
    ``special_tokens_mask`` (1 at ``[CLS]``/``[SEP]``) are aligned with it. ``label`` is the
    NSP label (1 = B comes from another document) or the SOP label (1 = A and B swapped), and
    ``None`` for ``task="single"``. ``document`` is the index of the document an instance was
    cut from.
    """

    input_ids: np.ndarray
    offsets: np.ndarray
    token_type_ids: np.ndarray
    special_tokens_mask: np.ndarray
    label: Optional[np.ndarray]
    document: np.ndarray
    task: str
    word_starts: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def label_column(self) -> Optional[str]:
        """``"next_sentence_label"``, ``"sentence_order_label"`` or ``None``."""
        return LABEL_COLUMNS[self.task]

    @property
    def num_tokens(self) -> int:
        return int(self.input_ids.shape[0])

    def __getitem__(self, i: int) -> Dict[str, Any]:
        n = len(self)
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral):
            raise TypeError(f"instance index must be an integer, got {type(i).__name__}")
        i = int(i) + (n if i < 0 else 0)
        if not 0 <= i < n:
            raise IndexError(f"instance index out of range (there are {n} instances)")
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        out: Dict[str, Any] = {
            "input_ids": self.input_ids[a:b].tolist(),
            "token_type_ids": self.token_type_ids[a:b].tolist(),
            "special_tokens_mask": self.special_tokens_mask[a:b].tolist(),
        }
        if self.label is not None:
            out[self.label_column] = int(self.label[i])
        out["document"] = int(self.document[i])
        return out

    def masker_inputs(self) -> Dict[str, np.ndarray]:
        """Keyword arguments for :class:`fastmask.Masker` (flat values + ``offsets=``)."""
        kw = {"input_ids": self.input_ids, "offsets": self.offsets,
              "special_tokens_mask": self.special_tokens_mask,
              "token_type_ids": self.token_type_ids}
        if self.word_starts is not None:
            kw["word_starts"] = self.word_starts
        return kw

    def to_arrow(self, *, include_document: bool = True,
                 include_special_tokens_mask: bool = True):
        """A ``pyarrow.Table``: list columns built on these buffers without copying them."""
        import pyarrow as pa

        off = pa.array(self.offsets.astype(np.int32) if self.offsets[-1] < 2**31 - 1
                       else self.offsets)
        lst = pa.ListArray if off.type == pa.int32() else pa.LargeListArray
        cols = {"input_ids": lst.from_arrays(off, pa.array(self.input_ids)),
                "token_type_ids": lst.from_arrays(off, pa.array(self.token_type_ids))}
        if include_special_tokens_mask:
            cols["special_tokens_mask"] = lst.from_arrays(off, pa.array(self.special_tokens_mask))
        if self.word_starts is not None:
            cols["word_starts"] = lst.from_arrays(off, pa.array(self.word_starts))
        if self.label is not None:
            cols[self.label_column] = pa.array(self.label)
        if include_document:
            cols["document"] = pa.array(self.document)
        return pa.table(cols)


def _concat_ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """The concatenation of ``range(starts[i], starts[i] + lens[i])`` over ``i``."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.cumsum(lens) - lens
    return np.arange(total, dtype=np.int64) + np.repeat(starts - first, lens)


def create_instances(documents: Any, *, cls_token_id: int, sep_token_id: int,
                     max_seq_length: int = 128, short_seq_prob: float = 0.1,
                     task: str = "nsp", seed: int = 0, variant: int = 0,
                     start: int = 0, stop: Optional[int] = None,
                     num_proc: int = 1) -> Instances:
    """Cuts documents into training instances, as BERT's ``create_instances_from_document``.

    Args:
        documents: a :class:`Documents`, an Arrow ``list<list<int>>`` array (one document per
            row, one sentence per inner list) or a Python list of documents (lists of
            sentences, each a list of ids). Empty sentences are skipped, as BERT skips empty
            lines; documents without sentences give no instances.
        cls_token_id, sep_token_id: ids of ``[CLS]`` and ``[SEP]``.
        max_seq_length: length of the longest instance, special tokens included (>= 5 for
            pairs, >= 3 for ``"single"``).
        short_seq_prob: probability that a document's target length is drawn uniformly from
            ``[2, max_num_tokens]`` instead of filling ``max_seq_length``.
        task: ``"nsp"`` (BERT: B is a random run of another document half of the time),
            ``"sop"`` (ALBERT: A and B swapped half of the time) or ``"single"``
            (``[CLS] chunk [SEP]``, no label).
        seed: ``0 <= seed < 2**64``; with ``variant`` the key of every document's generator.
        variant: another set of instances from the same seed (for example one per static copy,
            as BERT rebuilds the pairs in every ``dupe_factor`` round).
        start, stop: only cut documents ``start .. stop-1`` (``stop`` defaults to the end); the
            random segments of NSP still come from the whole corpus, and the instances of a
            document are the same whichever range it is cut in.
        num_proc: cut ranges of documents in this many processes (forked, so on platforms
            that have ``fork``; elsewhere the work stays in this process). The result is the
            same for any value.

    Returns:
        :class:`Instances`, in document order.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(map(repr, TASKS))}, got {task!r}")
    cls_id = check_int("cls_token_id", cls_token_id, 0)
    sep_id = check_int("sep_token_id", sep_token_id, 0)
    pair = task != "single"
    max_seq_length = check_int("max_seq_length", max_seq_length, 5 if pair else 3)
    if isinstance(short_seq_prob, (bool, np.bool_)) or not isinstance(short_seq_prob,
                                                                      numbers.Real):
        raise TypeError(f"short_seq_prob must be a number in [0, 1], got {short_seq_prob!r}")
    short_seq_prob = float(short_seq_prob)
    if not 0.0 <= short_seq_prob <= 1.0:
        raise ValueError(f"short_seq_prob must be in [0, 1], got {short_seq_prob}")
    seed = check_int("seed", seed, 0, (1 << 64) - 1)
    variant = check_int("variant", variant, 0, (1 << 64) - 1)

    num_proc = check_int("num_proc", num_proc, 1)
    docs = _as_documents(documents).drop_empty_sentences()
    D = len(docs)
    start = check_int("start", start, 0, D)
    stop = D if stop is None else check_int("stop", stop, start, D)
    args = (task, max_seq_length, short_seq_prob, seed, variant)
    if num_proc > 1 and stop - start > 1:
        plan = _plan_in_processes(docs, args, start, stop, num_proc)
    else:
        plan = _plan(docs, args, start, stop)
    return _materialize(docs, task, cls_id, sep_id, plan)


def _plan(docs: Documents, args: tuple, start: int, stop: int) -> np.ndarray:
    """The instances of documents ``start .. stop-1`` as an (n, 6) int64 array of (document,
    A start, A end, B start, B end, label), in token positions of ``docs.values``."""
    task, max_seq_length, short_seq_prob, seed, variant = args
    pair = task != "single"

    so_np = docs.sentence_offsets
    do_np = docs.document_offsets
    nsent = np.diff(do_np)
    pool = np.flatnonzero(nsent > 0)  # documents a random segment can come from
    n_pool = int(pool.shape[0])
    max_num_tokens = max_seq_length - (3 if pair else 2)

    # plan: one (document, A start, A end, B start, B end, label) per instance, in token
    # positions of docs.values; A and B are always contiguous runs of the corpus
    p_doc: List[int] = []
    p_as: List[int] = []
    p_ae: List[int] = []
    p_bs: List[int] = []
    p_be: List[int] = []
    p_lab: List[int] = []

    s_lo = int(do_np[start])
    s_hi = int(do_np[stop])
    so_all = so_np[s_lo:s_hi + 1].tolist()  # sentence offsets of the documents being cut
    doc_sent = do_np[start:stop + 1].tolist()
    nsp = task == "nsp"

    for d in range(start, stop):
        first = doc_sent[d - start] - s_lo
        n_sent = doc_sent[d - start + 1] - s_lo - first
        if n_sent == 0:
            continue
        so = so_all[first:first + n_sent + 1]
        rnd = _DocDraws(seed, d, variant)
        target = max_num_tokens
        if rnd.uniform() < short_seq_prob:
            target = rnd.integer(2, max_num_tokens)
        i = 0
        cstart = 0
        clen = 0
        while i < n_sent:
            clen += so[i + 1] - so[i]
            if i == n_sent - 1 or clen >= target:
                n = i - cstart + 1
                if not pair:
                    a_s, a_e = so[cstart], so[i + 1]
                    b_s = b_e = a_e
                    over = a_e - a_s - max_num_tokens
                    if over > 0:
                        f = rnd.heads(over)
                        a_s += f
                        a_e -= over - f
                    label = -1
                else:
                    a_end = 1 if n < 2 else rnd.integer(1, n - 1)
                    a_s, a_e = so[cstart], so[cstart + a_end]
                    if n == 1 or (nsp and rnd.uniform() < 0.5):
                        # B: a run of sentences of another document, from a random sentence
                        label = 1
                        target_b = target - (a_e - a_s)
                        rd = d
                        for _ in range(10):
                            rd = int(pool[rnd.integer(0, n_pool - 1)])
                            if rd != d:
                                break
                        r0 = int(do_np[rd])
                        r1 = int(do_np[rd + 1])
                        rs = r0 + rnd.integer(0, r1 - r0 - 1)
                        b_s = int(so_np[rs])
                        e = int(so_np.searchsorted(b_s + target_b, side="left"))
                        e = min(max(e, rs + 1), r1)
                        b_e = int(so_np[e])
                        # the sentences of the chunk left out of A go back to the document
                        i -= n - a_end
                    elif not nsp and rnd.uniform() < 0.5:
                        label = 1  # sentence order swapped
                        b_s, b_e = a_s, a_e
                        a_s, a_e = so[cstart + a_end], so[i + 1]
                    else:
                        label = 0
                        b_s, b_e = so[cstart + a_end], so[i + 1]
                    # truncate the longer segment, one token at a time, front or back at random
                    la = a_e - a_s
                    lb = b_e - b_s
                    over = la + lb - max_num_tokens
                    if over > 0:
                        gap = la - lb
                        ra = min(over, gap) if gap > 0 else 0
                        rb = min(over, -gap) if gap < 0 else 0
                        rest = over - ra - rb
                        rb += (rest + 1) // 2
                        ra += rest // 2
                        fa = rnd.heads(ra)
                        fb = rnd.heads(rb)
                        a_s += fa
                        a_e -= ra - fa
                        b_s += fb
                        b_e -= rb - fb
                p_doc.append(d)
                p_as.append(a_s)
                p_ae.append(a_e)
                p_bs.append(b_s)
                p_be.append(b_e)
                p_lab.append(label)
                cstart = i + 1
                clen = 0
            i += 1

    plan = np.empty((len(p_doc), 6), dtype=np.int64)
    for k, col in enumerate((p_doc, p_as, p_ae, p_bs, p_be, p_lab)):
        plan[:, k] = col
    return plan


_FORK_DOCS: Optional[Documents] = None  # the corpus, inherited by forked workers


def _plan_range(payload: tuple) -> np.ndarray:
    args, start, stop = payload
    assert _FORK_DOCS is not None
    return _plan(_FORK_DOCS, args, start, stop)


def _plan_in_processes(docs: Documents, args: tuple, start: int, stop: int,
                       num_proc: int) -> np.ndarray:
    """:func:`_plan` over ranges of documents in forked processes, joined in order (only the
    small plans travel back; the token arrays are built once, here)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    global _FORK_DOCS
    if "fork" not in mp.get_all_start_methods():
        return _plan(docs, args, start, stop)
    # ranges of about equal token counts, several per process to even out the load
    n_parts = min(stop - start, 4 * num_proc)
    first_sent = docs.document_offsets[start:stop + 1]
    tok = docs.sentence_offsets[first_sent]
    cuts = np.searchsorted(tok, np.linspace(tok[0], tok[-1], n_parts + 1)[1:-1])
    bounds = sorted(set([start] + [start + int(c) for c in cuts] + [stop]))
    payloads = [(args, a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    _FORK_DOCS = docs
    try:
        with ProcessPoolExecutor(num_proc, mp_context=mp.get_context("fork")) as ex:
            parts = list(ex.map(_plan_range, payloads))
    finally:
        _FORK_DOCS = None
    return np.concatenate(parts) if parts else np.zeros((0, 6), dtype=np.int64)


def _materialize(docs: Documents, task: str, cls_id: int, sep_id: int,
                 plan: np.ndarray) -> Instances:
    """Builds the flat instance arrays from the plan, with vectorised gathers."""
    pair = task != "single"
    a_s = np.ascontiguousarray(plan[:, 1])
    la = plan[:, 2] - a_s
    b_s = np.ascontiguousarray(plan[:, 3])
    lb = plan[:, 4] - b_s
    n = a_s.shape[0]
    lens = la + lb + (3 if pair else 2)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    total = int(offsets[-1])
    values = docs.values
    dtype = values.dtype
    hi = max(cls_id, sep_id)
    if dtype == np.int32 and hi > np.iinfo(np.int32).max:
        dtype = np.dtype(np.int64)
    ids = np.empty(total, dtype=dtype)
    types = np.zeros(total, dtype=np.uint8)
    special = np.zeros(total, dtype=np.uint8)
    row0 = offsets[:-1]
    sep1 = row0 + 1 + la
    ids[row0] = cls_id
    ids[sep1] = sep_id
    special[row0] = 1
    special[sep1] = 1
    dst_a = _concat_ranges(row0 + 1, la)
    src_a = _concat_ranges(a_s, la)
    ids[dst_a] = values[src_a]
    ws = None
    if docs.word_starts is not None:
        ws = np.ones(total, dtype=np.uint8)
        ws[dst_a] = docs.word_starts[src_a]
    if pair:
        sep2 = offsets[1:] - 1
        ids[sep2] = sep_id
        special[sep2] = 1
        dst_b = _concat_ranges(sep1 + 1, lb)
        src_b = _concat_ranges(b_s, lb)
        ids[dst_b] = values[src_b]
        types[_concat_ranges(sep1 + 1, lb + 1)] = 1
        if ws is not None:
            ws[dst_b] = docs.word_starts[src_b]
        label = plan[:, 5].astype(np.int8)
    else:
        label = None
    return Instances(input_ids=ids, offsets=offsets, token_type_ids=types,
                     special_tokens_mask=special, label=label,
                     document=np.ascontiguousarray(plan[:, 0]), task=task, word_starts=ws)
