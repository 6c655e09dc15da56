"""Declares the compiled extension; all metadata lives in pyproject.toml.

Environment switches:
  FASTMASK_DEBUG=1     -O0 -g and Cython bounds/wraparound checks turned back on
  FASTMASK_SANITIZE=1  compile (and link) with -fsanitize=address,undefined
"""

import glob
import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("FASTMASK_DEBUG", "0") not in ("", "0")
SANITIZE = os.environ.get("FASTMASK_SANITIZE", "0") not in ("", "0")

compile_args = []
link_args = []
if sys.platform != "win32":
    compile_args += ["-ffp-contract=off", "-fno-strict-aliasing"]
    compile_args += ["-O0", "-g"] if DEBUG else ["-O3"]
    if SANITIZE:
        compile_args += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
        link_args += ["-fsanitize=address,undefined"]

directives = {
    "language_level": "3",
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "cdivision": True,
    "initializedcheck": DEBUG,
    "embedsignature": True,
}

extensions = [
    Extension(
        "fastmask._core",
        sources=["fastmask/_core.pyx", *sorted(glob.glob("csrc/*.c"))],
        include_dirs=["csrc", "fastmask"],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
]

setup(ext_modules=cythonize(extensions, compiler_directives=directives))
