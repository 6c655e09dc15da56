"""A Masker whose thread pool has run keeps working in a forked child (no hang).

Each scenario runs in its own interpreter with a timeout, so a regression fails the test in
seconds instead of hanging the suite.
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

PRELUDE = """
import os, sys
import numpy as np
import fastmask
from fastmask import _api

# enough tokens that a batch is split over both threads
N_TOK = 3 * _api._TOKENS_PER_THREAD
rng = np.random.default_rng(0)
lens = rng.integers(200, 512, size=N_TOK // 350)
rows = [rng.integers(5, 1000, size=int(n)).tolist() for n in lens]
values = np.concatenate([np.asarray(r) for r in rows])
offsets = np.concatenate([[0], np.cumsum(lens)])
masker = fastmask.Masker(1000, 4, special_ids=[0, 1, 2, 3, 4], seed=7, num_threads=2)
assert _api._thread_count(2, int(lens.sum()), len(rows)) == 2
sids = np.arange(len(rows))
want_lists = masker(rows, sample_ids=sids)
want_ragged = masker(values, offsets=offsets, sample_ids=sids)
assert masker._pool is not None  # the pool has run
"""


def run(body, timeout=120):
    code = PRELUDE + textwrap.dedent(body)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=timeout)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def test_fork_after_pool_ran():
    out = run("""
        pid = os.fork()
        if pid == 0:
            ok = True
            for _ in range(2):
                got = masker(rows, sample_ids=sids)
                ok &= all((got[k] == want_lists[k]).all() for k in got)
                got = masker(values, offsets=offsets, sample_ids=sids)
                ok &= all((got[k] == want_ragged[k]).all() for k in got)
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
        # the parent's pool still works
        got = masker(rows, sample_ids=sids)
        assert all((got[k] == want_lists[k]).all() for k in got)
    """, timeout=60)
    assert "child 0" in out


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_dataloader_workers_after_threaded_batch(method, tmp_path):
    pytest.importorskip("torch")
    script = tmp_path / "loader.py"
    script.write_text(PRELUDE + textwrap.dedent(f"""
        import torch
        from fastmask.torch import MLMCollator

        class Rows(torch.utils.data.Dataset):
            def __len__(self):
                return 2 * len(rows)
            def __getitem__(self, i):
                # with sample ids the workers use the collator's own (inherited) Masker
                return {{"input_ids": rows[i % len(rows)], "sample_id": i}}

        def main():
            coll = MLMCollator(vocab_size=1000, mask_token_id=4, special_ids=[0, 1, 2, 3, 4],
                               seed=7, num_threads=2)
            big = coll([{{"input_ids": r}} for r in rows])  # the main process runs the pool
            # each worker's batch is as large as the one above, so it is split over threads too
            dl = torch.utils.data.DataLoader(Rows(), batch_size=len(rows), num_workers=2,
                                             collate_fn=coll, multiprocessing_context="{method}")
            n = sum(int(b["attention_mask"].sum()) for b in dl)
            assert n == 2 * int(lens.sum()), (n, int(lens.sum()))
            print("done", n)

        if __name__ == "__main__":
            main()
    """))
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "done" in res.stdout
