"""Thread scaling: ``Masker(num_threads=N)`` on the largest batches (1024 sequences), for list
and ragged inputs. One group per scenario; N = 1, 2, 4, ... up to the usable CPUs."""

import pytest
from conftest import prepared, run, scenario

from fastmask import bench as bm

SCENARIOS = [scenario(1024, L, "tokens", form) for form in ("list", "ragged")
             for L in (512, 2048)]


@pytest.mark.parametrize("threads", bm.default_threads())
@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_threads(benchmark, sc, threads):
    peer = bm.FastmaskPeer(threads)
    fn, data = prepared(peer, sc)
    benchmark.extra_info["threads"] = threads
    run(benchmark, peer, fn, data, group=f"threads {sc.id}")
