"""The headline scenario of a benchmark run gets enough calls for a stable median, whatever the
run's timing (issue 10, item 13: in ``bench --quick`` the same 256x512 scenario showed 1.83 ms in
the headline and 0.637 ms in the thread table)."""

from fastmask import bench as bm

QUICKEST = bm.Timing(repeat=2, warmup=1, min_time=0.0, max_time=0.0)


def test_headline_timing_raises_every_limit_to_the_minimum():
    t = bm.headline_timing(QUICKEST)
    assert t.repeat == bm.HEADLINE_CALLS >= 25
    assert t.warmup == bm.HEADLINE_WARMUP >= 3
    assert t.min_time > 0 and t.max_time >= 1.0
    assert t.keep == QUICKEST.keep
    # never lowers what a run asked for
    big = bm.Timing(repeat=500, warmup=9, min_time=5.0, max_time=60.0, keep=3)
    assert bm.headline_timing(big) == big
    assert QUICKEST.repeat == 2  # the run's own timing is left alone


def test_quick_run_gives_the_headline_enough_calls():
    settings = bm.Settings(batch_sizes=(8, 64), max_lengths=(32,), maskings=("tokens",),
                           inputs=("list",), peers=("fastmask", "pad-floor"), timing=QUICKEST,
                           fresh="none", threads=(1, 2))
    doc = bm.run(settings, progress=False)
    head = doc["headline"]
    assert head == "B64-L32-tokens-list"
    steady = [r for r in doc["results"] if r["mode"] == "steady"]
    assert {r["peer"] for r in steady if r["scenario"] == head} == {"fastmask", "pad-floor"}
    for r in steady:
        if r["scenario"] == head:
            assert r["calls"] >= bm.HEADLINE_CALLS, r
        else:
            assert r["calls"] == 2, r  # the other scenarios keep the run's timing
    # the thread table measures the headline scenario as carefully as the headline does
    th = [r for r in doc["scaling"]["threads"] if r["scenario"] == head]
    assert th and all(r["calls"] >= bm.HEADLINE_CALLS for r in th)
    assert doc["settings"]["headline_calls"] == bm.HEADLINE_CALLS
    assert f"at least {bm.HEADLINE_CALLS} calls" in bm.timing_line(doc["settings"])
