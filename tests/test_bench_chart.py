"""The benchmark chart, checked on matplotlib's figure objects (issue 10, item 13): legends off
the data, ticks at the measured values written as plain numbers, no fit panel without a fit."""

import pytest

pytest.importorskip("matplotlib")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fastmask import bench as bm  # noqa: E402

QUICKEST = bm.Timing(repeat=2, warmup=1, min_time=0.0, max_time=0.0)


def _doc(**kw):
    opts = dict(batch_sizes=(8,), max_lengths=(32,), maskings=("tokens",), inputs=("list",),
                peers=("fastmask", "numpy", "pad-floor"), timing=QUICKEST, fresh="none",
                threads=())
    opts.update(kw)
    return bm.run(bm.Settings(**opts), progress=False)


@pytest.fixture(scope="module")
def sizes_doc():
    # three batch sizes (a fit), two lengths, thread scaling on the largest batches
    return _doc(batch_sizes=(32, 64, 128), max_lengths=(16, 32), threads=(1, 2))


@pytest.fixture
def figure(request):
    figs = []

    def make(doc):
        fig = bm.chart_figure(doc)
        fig.canvas.draw()
        figs.append(fig)
        return fig

    yield make
    for f in figs:
        plt.close(f)


def _panels(fig):
    return {ax.get_label(): ax for ax in fig.axes}


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_one_size_has_no_fit_and_no_size_panels(figure):
    fig = figure(_doc())
    assert set(_panels(fig)) == {"headline"}
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["fastmask", "NumPy", "pad floor"]


def test_panels_follow_the_data(figure, sizes_doc):
    fig = figure(sizes_doc)
    assert set(_panels(fig)) == {"headline", "batch", "length", "tokens", "threads"}
    two = figure(_doc(batch_sizes=(8, 64)))
    assert set(_panels(two)) == {"headline", "batch"}  # two sizes: no fit is made


def test_ticks_are_the_measured_values_as_numbers(figure, sizes_doc):
    p = _panels(figure(sizes_doc))
    assert [t.get_text() for t in p["batch"].get_xticklabels()] == ["32", "64", "128"]
    assert [t.get_text() for t in p["length"].get_xticklabels()] == ["16", "32"]
    assert [t.get_text() for t in p["threads"].get_xticklabels()] == ["1", "2"]
    for name in ("headline", "batch", "length", "tokens", "threads"):
        ax = p[name]
        assert ax.xaxis.get_minorticklocs().size == 0
        assert ax.yaxis.get_minorticklocs().size == 0
        for t in ax.get_xticklabels() + ax.get_yticklabels():  # plain numbers, not 10^k
            assert "$" not in t.get_text() and "10^" not in t.get_text()


def test_legends_stay_off_the_data(figure, sizes_doc):
    fig = figure(sizes_doc)
    renderer = fig.canvas.get_renderer()
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert fig.legends, "one legend for the peers"
    assert _panels(fig)["threads"].get_legend() is not None
    for ax in fig.axes:
        if ax.get_label() != "threads":
            assert ax.get_legend() is None
    for leg in legends:
        box = leg.get_window_extent(renderer)
        for ax in fig.axes:
            assert not _overlaps(box, ax.get_window_extent(renderer)), (ax.get_label(), box)
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"fastmask", "NumPy", "pad floor"} <= labels


def test_plot_chart_writes_a_png_and_closes_the_figure(tmp_path, sizes_doc):
    before = set(plt.get_fignums())
    p = str(tmp_path / "sub" / "chart.png")
    assert bm.plot_chart(sizes_doc, p) == p
    with open(p, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert set(plt.get_fignums()) == before
