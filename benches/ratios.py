"""The kernel-speed ratios in one process: fastmask against the floor of its input form.

    python benches/ratios.py [--rounds 200] [--dtype int64] [--seed 0]

Builds 256 sequences of at most 512 Zipf-distributed ids (BERT's vocabulary size) and times, in
interleaved rounds with the outputs of the last two calls of each case alive:

* lists -> padded, masked arrays, against ``fastmask.pad`` of the same lists (the pad floor);
* ragged values + offsets -> padded, masked arrays, against writing the three padded outputs
  (the copy floor); the same for a padded 2-D array with lengths;
* whole-word masking (vocabulary table) of the lists, against token masking of the lists;
* exact selection (token units) and span selection (word units) of the lists, against token
  masking of the lists (reported, without a target of their own).

Prints the minimum and median of each case and the three ratios. Timings on a shared machine are
noisy: compare the ratios, which come from one process, not the times across runs.
"""
import argparse
import gc
import time

import numpy as np

import fastmask


def build(seed: int):
    rng = np.random.default_rng(seed)
    B, L, V = 256, 512, 30522
    lens = np.minimum(L, np.maximum(8, rng.lognormal(np.log(0.6 * L), 0.6, B).astype(int)))
    values = (np.minimum(V - 1000, rng.zipf(1.2, int(lens.sum())) + 999)).astype(np.int64)
    offsets = np.zeros(B + 1, np.int64)
    offsets[1:] = np.cumsum(lens)
    lists = [values[offsets[i]:offsets[i + 1]].tolist() for i in range(B)]
    table = np.ones(V, np.uint8)
    table[rng.integers(0, V, V // 3)] = 0  # a third of the ids continue a word
    return V, values, offsets, lists, table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--dtype", default="int64", choices=["int64", "int32"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    V, values, offsets, lists, table = build(args.seed)
    specials = [0, 100, 101, 102, 103]
    table[specials] = 2
    opts = dict(special_ids=specials, seed=1, dtype=args.dtype)
    tokens = fastmask.Masker(V, 103, **opts)
    words = fastmask.Masker(V, 103, whole_word=True, word_table=table.tobytes(), **opts)
    exact = fastmask.Masker(V, 103, selection="exact", **opts)
    span = fastmask.Masker(V, 103, whole_word=True, word_table=table.tobytes(),
                           selection="span", **opts)
    vals = values.astype(args.dtype)
    lengths = np.diff(offsets)
    padded = fastmask.pad(lists, dtype=args.dtype)["input_ids"]
    first = tokens(vals, offsets=offsets)
    outs = (first["input_ids"], first["labels"], first["attention_mask"])

    def copy_floor():
        block = np.empty((3,) + outs[0].shape, outs[0].dtype)
        for k in range(3):
            np.copyto(block[k], outs[k])
        return block

    cases = {
        "lists": lambda: tokens(lists),
        "pad floor": lambda: fastmask.pad(lists, dtype=args.dtype),
        "ragged": lambda: tokens(vals, offsets=offsets),
        "padded": lambda: tokens(padded, lengths=lengths),
        "copy floor": copy_floor,
        "words": lambda: words(lists),
        "exact": lambda: exact(lists),
        "span": lambda: span(lists),
    }
    times = {k: [] for k in cases}
    alive = []
    for f in cases.values():  # warm-up
        alive.append(f())
    gc.disable()
    for _ in range(args.rounds):
        for name, f in cases.items():
            t0 = time.perf_counter()
            out = f()
            times[name].append((time.perf_counter() - t0) * 1e3)
            alive.append(out)
            del alive[:-2 * len(cases)]
    gc.enable()
    lo = {k: min(v) for k, v in times.items()}
    mid = {k: float(np.median(v)) for k, v in times.items()}
    print(f"{int(offsets[-1])} tokens, {args.dtype}, SIMD path {fastmask._core.simd_path()}")
    for k in cases:
        print(f"  {k:10s}  min {lo[k]:.3f} ms   median {mid[k]:.3f} ms")
    for a, b, target in (("lists", "pad floor", 1.5), ("ragged", "copy floor", 2.0),
                         ("padded", "copy floor", 2.0), ("words", "lists", 1.2)):
        print(f"  {a} / {b}: min {lo[a] / lo[b]:.2f}, median {mid[a] / mid[b]:.2f} "
              f"(target <= {target})")
    for a in ("exact", "span"):
        print(f"  {a} / lists: min {lo[a] / lo['lists']:.2f}, "
              f"median {mid[a] / mid['lists']:.2f}")


if __name__ == "__main__":
    main()
