"""A public module whose optional dependency is missing says which extra installs it."""

import subprocess
import sys

import pytest

CASES = [("fastmask.torch", "torch", "torch"), ("fastmask.arrow", "pyarrow", "arrow")]


@pytest.mark.parametrize("module,dep,extra", CASES)
def test_missing_dependency_gives_the_install_hint(module, dep, extra):
    code = (f"import sys; sys.modules[{dep!r}] = None\n"
            "try:\n"
            f"    import {module}\n"
            "except ImportError as e:\n"
            "    print('HINT', e)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert f"pip install 'fastmask[{extra}]'" in res.stdout, res.stdout


def test_absent_dependency_and_broken_dependency_differ(tmp_path, monkeypatch):
    from fastmask._deps import need

    with pytest.raises(ImportError) as e:
        need("fastmask_no_such_dependency", "x", "feature")
    assert "pip install 'fastmask[x]'" in str(e.value)
    # a dependency that is installed but fails inside shows its own error, not the hint
    (tmp_path / "fm_broken_dep").mkdir()
    (tmp_path / "fm_broken_dep" / "__init__.py").write_text("import fm_inner_missing_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ImportError) as e:
        need("fm_broken_dep", "x", "feature")
    assert e.value.name == "fm_inner_missing_module" and "fastmask[x]" not in str(e.value)
