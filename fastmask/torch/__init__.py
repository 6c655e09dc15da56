"""PyTorch integration: a ``collate_fn`` for masked-language-model training.

:class:`MLMCollator` takes the place of Hugging Face's ``DataCollatorForLanguageModeling``: give
it to ``DataLoader(collate_fn=...)`` or ``Trainer(data_collator=...)``. It pads and masks a list
of examples in the C core and returns tensors that share memory with the arrays the core wrote.

Masks are a pure function of ``(seed, epoch, sample id)`` (docs/semantics.md), so they do not
depend on batch composition, worker count, rank or resumption, provided each example carries a
sample id. The helpers here get the sample id and the epoch to wherever collation runs:

* :class:`IndexedDataset` wraps a map-style dataset and attaches each example's index as its
  sample id (and, given ``(epoch, index)`` pairs, the epoch);
* :class:`EpochSampler` wraps a sampler and yields ``(epoch, index)`` pairs, so the epoch
  travels with the indices to every worker, persistent ones included;
* :meth:`MLMCollator.set_epoch` stores the epoch in a shared-memory cell that every copy of the
  collator reads, worker processes included;
* :class:`EpochCallback` calls ``set_epoch`` from a Hugging Face ``Trainer``.

Examples without sample ids are numbered by a per-process counter whose streams never overlap
across workers, ranks or epochs (see :class:`MLMCollator`, "Examples without sample ids").

The package's modules, one idea each:

* ``collator``: :class:`MLMCollator` (options, ``from_tokenizer``, the call);
* ``gather``: reading examples (dicts, ``BatchEncoding``, sequences, tensors) into columns;
* ``masked`` / ``causal``: the two labelling modes (``mlm=True`` / ``mlm=False``);
* ``streams``: the shared epoch and the fallback sample-id streams per worker and rank;
* ``output``: :class:`Batch`, zero-copy tensors, extra fields, the padding-free layout;
* ``data``: :class:`IndexedDataset`, :class:`IndexedExample`, :class:`EpochSampler`,
  :class:`EpochCallback`.

This package imports ``torch`` (the rest of fastmask never does); ``transformers`` is never
imported.
"""

from .._deps import need

need("torch", "torch", "fastmask.torch")

from .collator import MLMCollator  # noqa: E402
from .data import EpochCallback, EpochSampler, IndexedDataset, IndexedExample  # noqa: E402
from .output import Batch  # noqa: E402

__all__ = [
    "MLMCollator",
    "Batch",
    "IndexedDataset",
    "IndexedExample",
    "EpochSampler",
    "EpochCallback",
]
