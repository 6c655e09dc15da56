"""How fastmask is built and described: one version, the compile flags, supported Pythons.

The distributions themselves (sdist and wheel contents, an install in a fresh environment) are
checked by .ci/dist.sh, which takes a minute of compiling; these tests read the build
configuration directly and stay fast.
"""

from __future__ import annotations

import glob
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import fastmask

ROOT = Path(__file__).resolve().parent.parent

try:
    import tomllib  # Python 3.11+
except ImportError:  # pragma: no cover - older Pythons
    tomllib = None


def _pyproject():
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11+")
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def setup_module_ns():
    """setup.py's names, read without running setup()."""
    return runpy.run_path(str(ROOT / "setup.py"), run_name="fastmask_setup_inspection")


def test_version_is_written_once_and_read_by_the_build():
    project = _pyproject()["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]
    dynamic = _pyproject()["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "fastmask.__version__"}
    text = (ROOT / "fastmask" / "__init__.py").read_text(encoding="utf-8")
    assert re.findall(r'^__version__\s*=\s*"([^"]+)"$', text, re.M) == [fastmask.__version__]


def test_built_metadata_carries_the_package_version(tmp_path):
    # what a wheel's METADATA would say, produced by the build backend itself
    code = ("import sys; from setuptools import build_meta; "
            "print(build_meta.prepare_metadata_for_build_wheel(sys.argv[1]))")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    dist_info = run.stdout.strip().splitlines()[-1]
    metadata = (tmp_path / dist_info / "METADATA").read_text(encoding="utf-8")
    assert re.search(r"^Name: fastmask$", metadata, re.M)
    assert re.findall(r"^Version: (.+)$", metadata, re.M) == [fastmask.__version__]
    assert re.findall(r"^License-Expression: (.+)$", metadata, re.M) == ["Apache-2.0"]
    assert re.findall(r"^Requires-Python: (.+)$", metadata, re.M) == [
        _pyproject()["project"]["requires-python"]]


def test_command_line_reports_the_version():
    run = subprocess.run([sys.executable, "-m", "fastmask", "--version"], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"fastmask {fastmask.__version__}"


def test_classifiers_name_exactly_the_supported_pythons():
    project = _pyproject()["project"]
    m = re.fullmatch(r">=3\.(\d+)", project["requires-python"])
    assert m, project["requires-python"]
    listed = sorted(int(c.rsplit(".", 1)[1]) for c in project["classifiers"]
                    if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert listed, "no Python version classifiers"
    assert listed[0] == int(m.group(1))
    assert listed == list(range(listed[0], listed[-1] + 1)), listed
    assert sys.version_info[:2] >= (3, listed[0])


def test_every_c_source_goes_into_the_kernel_library(setup_module_ns):
    expected = sorted(os.path.relpath(p, ROOT).replace(os.sep, "/")
                      for p in glob.glob(str(ROOT / "csrc" / "*.c")))
    assert expected, "no csrc/*.c"
    (name, info), = setup_module_ns["LIBRARIES"]
    assert info["sources"] == expected
    ext, = setup_module_ns["EXTENSIONS"]
    assert ext.name == "fastmask._core"
    assert ext.sources == ["fastmask/_core.pyx"]  # the kernels come in through the library
    assert set(expected) <= set(ext.depends)  # a kernel change relinks the extension


def _last_opt(flags):
    return [f for f in flags if re.fullmatch(r"-O[0-3s]", f)][-1]


def test_release_flags(setup_module_ns):
    flags = setup_module_ns["build_flags"]({}, "linux")
    assert _last_opt(flags["kernels"]) == "-O3"
    assert _last_opt(flags["bindings"]) == "-O3"
    # Python's CFLAGS carry -g; it is switched off again (it only slows the compile)
    for part in ("kernels", "bindings"):
        assert "-g0" in flags[part]
        assert "-ffp-contract=off" in flags[part]
        # functions and loops on cache lines: speed that does not move with unrelated code
        assert "-falign-functions=64" in flags[part] and "-falign-loops=64" in flags[part]
        assert not any(f.startswith("-fsanitize") for f in flags[part])
    assert flags["link"] == []
    assert flags["debug"] is False


@pytest.mark.parametrize("value", ["1", "yes"])
def test_debug_switch_applies_to_kernels_and_bindings(setup_module_ns, value):
    flags = setup_module_ns["build_flags"]({"FASTMASK_DEBUG": value}, "linux")
    for part in ("kernels", "bindings"):
        assert _last_opt(flags[part]) == "-O0"
        assert "-g" in flags[part] and "-g0" not in flags[part]
    assert flags["debug"] is True


def test_sanitize_switch_applies_to_kernels_bindings_and_link(setup_module_ns):
    flags = setup_module_ns["build_flags"]({"FASTMASK_SANITIZE": "1"}, "linux")
    for part in ("kernels", "bindings", "link"):
        assert "-fsanitize=address,undefined" in flags[part]
    off = setup_module_ns["build_flags"]({"FASTMASK_SANITIZE": "0", "FASTMASK_DEBUG": ""},
                                         "linux")
    assert off == setup_module_ns["build_flags"]({}, "linux")


def test_no_machine_specific_or_unsafe_math_flags(setup_module_ns):
    for env in ({}, {"FASTMASK_DEBUG": "1"}, {"FASTMASK_SANITIZE": "1"}):
        flags = setup_module_ns["build_flags"](env, "linux")
        every = flags["kernels"] + flags["bindings"] + flags["link"]
        assert not [f for f in every if f.startswith(("-march", "-mtune", "-ffast-math",
                                                      "-Ofast"))]


def test_license_is_the_apache_2_text():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert _pyproject()["project"]["license"] == "Apache-2.0"


def test_changelog_has_an_unreleased_section_and_the_current_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[0] == "Unreleased"
    assert any(h.split()[0] == fastmask.__version__ for h in headings[1:]), headings
