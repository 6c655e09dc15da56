"""The scenarios of ``fastmask bench`` as pytest-benchmark benchmarks.

One group per scenario (batch size x maximum length x masking x input form), every installed
peer in it. By default a representative subset runs: every batch size at 512 tokens, every
length at 256 sequences, on list inputs with token and whole-word masking, plus the other input
forms at 256 x 512. ``FASTMASK_BENCH_FULL=1`` runs the whole matrix.
"""

import pytest
from conftest import CTX, FULL, SOURCE, peer_or_skip, prepared, run, scenario

from fastmask import bench as bm


def _scenarios():
    if FULL:
        return [scenario(s.batch_size, s.max_length, s.masking, s.inputs) for s in
                bm.make_scenarios(bm.BATCH_SIZES, bm.MAX_LENGTHS, bm.MASKINGS,
                                  bm.DEFAULT_INPUTS)]
    out = []
    for m in bm.MASKINGS:
        for B in bm.BATCH_SIZES:
            out.append(scenario(B, 512, m, "list"))
        for L in (128, 2048):
            out.append(scenario(256, L, m, "list"))
        for form in ("arrays", "ndarray", "ragged"):
            out.append(scenario(256, 512, m, form))
    return list(dict.fromkeys(out))


def _cases():
    for sc in _scenarios():
        for name in bm.PEERS:
            peer = bm.PEERS[name]
            if peer.skip(sc, SOURCE, CTX):  # not meant for this scenario (see fastmask bench)
                continue
            yield pytest.param(sc, name, id=f"{sc.id}-{name}")


@pytest.mark.parametrize("sc, name", list(_cases()))
def test_scenario(benchmark, sc, name):
    peer = peer_or_skip(name)
    fn, data = prepared(peer, sc)
    run(benchmark, peer, fn, data)
