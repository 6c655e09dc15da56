"""``fastmask --version`` prints the package's own version (fastmask.__version__)."""

import os
import subprocess
import sys

import pytest

import fastmask
from fastmask.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastmask.__file__)))


def test_version_is_the_package_version(capsys, monkeypatch):
    monkeypatch.setattr(fastmask, "__version__", "9.8.7-test")
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == "fastmask 9.8.7-test"


def test_version_from_python_dash_m():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, "-m", "fastmask", "--version"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"fastmask {fastmask.__version__}"
